"""Keys that sign ID tokens and logout tokens; the private part is encrypted at rest.

The newest key not retired signs. A retired key stays published in the JWKS
until ``unpublish_after``, when every token it signed has expired.

``private_jwk`` is deferred: loading a row (to retire it, to list it) never
decrypts the private key; only signing asks for it, by name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import EncryptedJSON, UTCDateTime, utcnow


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    private_jwk: Mapped[dict] = mapped_column(EncryptedJSON, deferred=True)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublish_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
