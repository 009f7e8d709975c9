"""The append-only audit log of security events.

Rows are never updated or deleted: the ORM refuses it here, and the database
refuses it with triggers (see the initial migration). ``member_id`` is not a
foreign key, so that the evidence outlives an erased account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import BigId, UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Dotted event name, e.g. ``login.password_failed``.
    event: Mapped[str] = mapped_column(String(64), index=True)
    member_id: Mapped[str | None] = mapped_column(String(32), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyError("audit events are append-only")
