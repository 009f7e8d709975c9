"""Shared Signals streams (OpenID SSF 1.0 §8) and the SETs they hold for their receiver.

One stream per client: the partner's receiver configures it (``SsfStream``).
A stream delivers by push (RFC 8935) through the partner notification outbox
(``PartnerNotification.stream_id``) or by poll (RFC 8936) from ``SsfEvent``
rows, which wait until the receiver acknowledges them. A paused stream keeps
its events here too, whatever its delivery method, until it is enabled again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.client import Client
from idp.models.types import EncryptedText, UTCDateTime, new_id, utcnow

PUSH = "urn:ietf:rfc:8935"
POLL = "urn:ietf:rfc:8936"
STATUSES = ("enabled", "paused", "disabled")


class SsfStream(db.Model):
    __tablename__ = "ssf_streams"

    #: The ``stream_id`` the receiver names the stream by.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), unique=True
    )
    #: The ``aud`` of every SET of the stream (the client id unless the receiver chose).
    audience: Mapped[str] = mapped_column(Text)
    events_requested: Mapped[list] = mapped_column(JSON, default=list)
    #: ``PUSH`` or ``POLL``.
    delivery_method: Mapped[str] = mapped_column(String(32))
    #: The receiver's push endpoint; None for poll streams.
    endpoint_url: Mapped[str | None] = mapped_column(Text)
    #: The ``Authorization`` header value sent with every push (a secret, so encrypted).
    authorization_header: Mapped[str | None] = mapped_column(EncryptedText)
    description: Mapped[str | None] = mapped_column(Text)
    #: ``enabled``, ``paused`` or ``disabled`` (SSF §8.1.2).
    status: Mapped[str] = mapped_column(String(16), default="enabled")
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_verification_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last poll request of the receiver (RFC 8936), for the operators.
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last ``setErrs`` entry the receiver reported, ``err: description``.
    last_receiver_error: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()


class SsfEvent(db.Model):
    """A SET waiting in a stream: to be polled and acknowledged, or held while paused."""

    __tablename__ = "ssf_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream_id: Mapped[str] = mapped_column(
        ForeignKey("ssf_streams.id", ondelete="CASCADE"), index=True
    )
    #: The SET's ``jti``, fixed when it is queued: a poll receiver acknowledges by it.
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(Text)
    #: ``{"alg", "claims"}``; the claims carry ``jti`` and ``iat``, the token is signed on demand.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Held while the stream is paused; released when it is enabled again.
    held: Mapped[bool] = mapped_column(Boolean, default=False)
