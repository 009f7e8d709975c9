"""A change of a member's email address, waiting for the link sent to the new address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import EncryptedText, UTCDateTime, utcnow


class EmailChange(db.Model):
    """A single-use link: only its hash is stored; it expires and is used at most once.

    ``cancelled_at`` is set when a later request replaces this one, so only the
    newest link of a member can work.
    """

    __tablename__ = "email_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The address asked for: personal data, encrypted at rest.
    new_email: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # no personal data in logs
        return f"<EmailChange {self.id} of {self.member_id}>"
