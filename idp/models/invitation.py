"""Invitations to develop a partner's clients, sent by email by one of its developers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.partner import Partner
from idp.models.types import EncryptedText, UTCDateTime, utcnow


class DeveloperInvitation(db.Model):
    """A single-use link: only its hash is stored; it expires and is used at most once."""

    __tablename__ = "developer_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    #: The address the link was sent to: personal data, encrypted at rest.
    email: Mapped[str] = mapped_column(EncryptedText)
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    partner: Mapped[Partner] = relationship()

    def __repr__(self) -> str:
        return f"<DeveloperInvitation {self.id} partner={self.partner_id}>"
