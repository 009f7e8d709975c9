"""Messages to partners' back-channel endpoints, delivered from an outbox with retries.

Logout tokens (OIDC Back-Channel Logout 1.0) and Security Event Tokens
(RFC 8417) wait here so a slow partner never blocks a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.client import Client
from idp.models.types import UTCDateTime, utcnow


class PartnerNotification(db.Model):
    __tablename__ = "partner_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    #: The Shared Signals stream a pushed SET belongs to (its ``Authorization`` header).
    stream_id: Mapped[str | None] = mapped_column(
        ForeignKey("ssf_streams.id", ondelete="SET NULL"), index=True
    )
    #: ``backchannel_logout`` or ``security_event``.
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
