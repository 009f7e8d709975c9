"""A pushed authorization request (RFC 9126 §2): parameters a client sent ahead.

The client gets a ``request_uri`` (RFC 9126 §2.2) whose random part is stored
only as a hash. It is short-lived and bound to its client; the first browser to
use it claims it (``used_at`` and a hash of that browser's holder value, set in
one UPDATE), and only that browser may come back with it, e.g. after logging
in, until a code is issued for it (``completed_at``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import EncryptedJSON, UTCDateTime, utcnow


class PushedAuthorizationRequest(db.Model):
    __tablename__ = "pushed_authorization_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the random part of the ``request_uri``.
    reference_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    #: The authorization request's parameters, each with every value it was sent with;
    #: encrypted, since ``login_hint`` and ``id_token_hint`` name the member.
    parameters: Mapped[dict] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: When a browser first presented the ``request_uri`` at the authorization endpoint.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the holder value of the browser that used it first.
    holder_hash: Mapped[str | None] = mapped_column(String(64))
    #: When a code was issued for it: from then on nobody may use it.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
