"""What partners read of a member: per member, partner, data scope and day (UTC), a count.

Written when a partner reads (UserInfo, the partner APIs, member claims in an ID
token) by one atomic ``INSERT ... ON CONFLICT DO UPDATE`` (``idp.services.consent_usage``),
so the member sees what was used, not only what was allowed. ``category`` is the data
scope read (``email``, ``miles``, ...; ``idp.catalog.SCOPE_CLAIMS``), whose data category
of the seeds is ``idp.catalog.SCOPE_DATA_CATEGORIES``. Only numbers and names of data
are kept, never the data itself.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


class PartnerAccess(db.Model):
    __tablename__ = "partner_access"

    member_id: Mapped[str] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: The data scope read (``idp.catalog.SCOPE_DATA_CATEGORIES``).
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The day in UTC.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: How many reads of the category the partner made that day.
    count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
