"""Login analytics for Miles & More (SPEC.md §10): counts per partner and day, nobody's name.

``LoginDay`` holds only numbers. Distinct members are counted with a marker
per (day, partner, member), ``LoginDayMarker``: an HMAC under a key of that
day, so the marker does not name the member. The markers of a day are deleted
once it is over (``idp.services.analytics``): the count is exact, and what
stays is the number alone.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


class LoginDay(db.Model):
    __tablename__ = "login_days"

    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    #: The day in UTC.
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    #: Authorizations completed: codes exchanged for tokens at the partner's clients.
    logins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    #: Distinct members among those logins.
    members: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    new_consents: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    withdrawals: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class LoginDayMarker(db.Model):
    """HMAC(key of the day, partner id and member id): this member is counted today there."""

    __tablename__ = "login_day_markers"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    marker: Mapped[str] = mapped_column(String(64), primary_key=True)
