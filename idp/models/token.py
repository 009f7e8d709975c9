"""Access and refresh tokens: opaque random values of which only hashes are stored.

Tokens issued from one authorization code share a ``family_id``; a refresh
rotates within the family, and a replayed code or a reused refresh token
revokes the whole family.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.client import Client
from idp.models.grant import Consent
from idp.models.types import UTCDateTime, new_id, utcnow


def hash_value(value: str) -> str:
    """Token values are 256-bit random values, so one SHA-256 round is enough."""
    return hashlib.sha256(value.encode()).hexdigest()


class Token(db.Model):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    #: None for client_credentials tokens, which carry no member data.
    member_id: Mapped[str | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("authorization_codes.id"))
    family_id: Mapped[str] = mapped_column(String(32), default=new_id, index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_type: Mapped[str] = mapped_column(String(16), default="Bearer")
    #: RFC 9449 §6: the JWK thumbprint (RFC 7638) of the key the tokens are bound to;
    #: None for bearer tokens. A public client's refresh token is bound to it too (§5).
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text, default="")
    sid: Mapped[str | None] = mapped_column(String(32))
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    #: The OIDC ``claims`` request (§5.5) of the authorization, for UserInfo.
    claims: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: None with a refresh token means "without time limit".
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    client: Mapped[Client] = relationship()
    consent: Mapped[Consent | None] = relationship()
