"""Initial access tokens for dynamic client registration (RFC 7591 §3, §1.2).

An operator issues them with ``mam-idp clients registration-token``. Each is
stored as a hash only, expires, and may be limited to a number of
registrations. A token bound to a partner registers that partner's clients;
a token without a partner registers each client for a new partner of its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import UTCDateTime, utcnow


class InitialAccessToken(db.Model):
    __tablename__ = "initial_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    #: Registrations the token allows; None for as many as its lifetime allows.
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<InitialAccessToken {self.id} partner={self.partner_id}>"
