"""Miles & More staff: the members who may use the operator console (``/admin``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import UTCDateTime, utcnow

#: ``admin``: approves, rejects, suspends and reinstates clients, retries
#: notifications, and reads everything. ``auditor``: reads the console (queue,
#: clients, notifications, audit log, analytics) and changes nothing.
STAFF_ROLES = ("admin", "auditor")
#: The roles that may act (every POST of the console).
ACTING_ROLES = ("admin",)


class StaffMember(db.Model):
    __tablename__ = "staff_members"
    __table_args__ = (CheckConstraint("role IN ('admin', 'auditor')", name="staff_role"),)

    member_id: Mapped[str] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
