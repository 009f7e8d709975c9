"""Routing Security Event Tokens about a member to the partner's Shared Signals stream.

The services that change a member's standing at a partner (withdrawal,
Stop sharing, pause and resume, a client's suspension, logout, a profile
change, account deletion) build the claims of one SET (``security_events``)
and hand them to ``publish``, in their own transaction. ``publish`` decides
where they go:

- the client has a stream (OpenID SSF 1.0 §8): one SET per event type
  (SSF §4: a SET describes one event), only for the types the stream delivers
  (``events_requested`` ∩ ``events_supported``, SSF §8.1.1), each with the
  top-level ``sub_id`` (RFC 9493 §3.2.5 ``iss_sub``, or ``complex`` with the
  session) and the stream's ``aud``; then by the stream's status and method:
  ``disabled`` drops it, ``paused`` holds it (``SsfEvent.held``), poll
  (RFC 8936) keeps it for the receiver, push (RFC 8935) queues it in the
  partner notification outbox to the stream's ``endpoint_url``;
- no stream, but a registered ``security_event_uri``: the client is treated
  as having a push stream there of the events it always received, in the SET
  it always received (several events in one token), as before streams existed;
  events introduced with the streams (``STREAM_ONLY``) are not sent there.

``release`` moves what a stream held once it is enabled again (SSF §8.1.2:
paused events are delivered on resume, a disabled stream keeps nothing).
"""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import delete, select, update

from idp.extensions import db
from idp.models import Client, PartnerNotification, SsfEvent, SsfStream
from idp.models.ssf import POLL
from idp.models.types import new_id, utcnow
from idp.services import notifications

#: SSF 1.0 §8.1.4.1 and §8.1.5: events of the stream itself, always delivered.
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
STREAM_UPDATED = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"
#: The OAuth event type of the Shared Signals event registry.
TOKEN_REVOKED = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"
#: OpenID CAEP 1.0 §3.1 and §3.2.
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
TOKEN_CLAIMS_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
#: OpenID RISC 1.0 §2.2, §2.3 and §2.4.
ACCOUNT_PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
ACCOUNT_DISABLED = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
ACCOUNT_ENABLED = "https://schemas.openid.net/secevent/risc/event-type/account-enabled"
#: Appended to the issuer: the provider's own consent events.
CONSENT_REVOKED_PATH = "/secevent/consent-revoked"
CONSENT_PAUSED_PATH = "/secevent/consent-paused"
CONSENT_RESUMED_PATH = "/secevent/consent-resumed"
#: Event types only a stream receives; a bare ``security_event_uri`` gets what it always did.
STREAM_ONLY = frozenset(
    {
        SESSION_REVOKED,
        ACCOUNT_PURGED,
        ACCOUNT_DISABLED,
        ACCOUNT_ENABLED,
        VERIFICATION,
        STREAM_UPDATED,
    }
)
#: The JWS algorithm of every SET: the client's ID token algorithm, as the outbox signs.
DEFAULT_ALG = "RS256"


def provider_issuer() -> str:
    return current_app.config["IDP"].issuer


def provider_event(path: str) -> str:
    return provider_issuer().rstrip("/") + path


def events_supported() -> list[str]:
    """SSF §8.1.1 ``events_supported``: every event type this provider emits about members."""
    return [
        TOKEN_REVOKED,
        TOKEN_CLAIMS_CHANGE,
        SESSION_REVOKED,
        ACCOUNT_PURGED,
        ACCOUNT_DISABLED,
        ACCOUNT_ENABLED,
        provider_event(CONSENT_REVOKED_PATH),
        provider_event(CONSENT_PAUSED_PATH),
        provider_event(CONSENT_RESUMED_PATH),
    ]


def events_delivered(stream: SsfStream) -> list[str]:
    supported = events_supported()
    return [e for e in dict.fromkeys(stream.events_requested or []) if e in supported]


def stream_of(client: Client) -> SsfStream | None:
    return db.session.scalar(select(SsfStream).where(SsfStream.client_id == client.id))


def has_stream(client: Client) -> bool:
    return stream_of(client) is not None


def publish(client: Client, claims: dict) -> int:
    """Queue the SET ``claims`` (``iss``, ``aud``, ``sub``, ``events``) for the client.

    In the caller's transaction; returns how many tokens were queued.
    """
    stream = stream_of(client)
    if stream is None:
        if not client.security_event_uri or set(claims["events"]) & STREAM_ONLY:
            return 0
        notifications.queue(client, "security_event", claims, url=client.security_event_uri)
        return 1
    delivered = set(events_delivered(stream))
    queued = 0
    for event_type, body in claims["events"].items():
        if event_type in delivered:
            queued += send(stream, event_type, stream_claims(stream, claims, event_type, body))
    return queued


def stream_claims(stream: SsfStream, claims: dict, event_type: str, body: dict) -> dict:
    """SSF §4: one event, the top-level ``sub_id``, the stream's audience; no ``sub``."""
    issuer = claims.get("iss") or provider_issuer()
    subject = claims.get("sub_id") or body.get("subject")
    if subject is None and claims.get("sub"):
        subject = {"format": "iss_sub", "iss": issuer, "sub": claims["sub"]}
    result = {"iss": issuer, "aud": stream.audience, "events": {event_type: body}}
    if subject is not None:
        result["sub_id"] = subject
    if "toe" in claims:
        result["toe"] = claims["toe"]
    return result


def send(stream: SsfStream, event_type: str, claims: dict) -> int:
    """One SET into the stream, by its status and method; 0 when a disabled stream drops it."""
    if stream.status == "disabled":
        return 0
    alg = stream.client.id_token_signed_response_alg or DEFAULT_ALG
    if stream.status == "paused" or stream.delivery_method == POLL:
        now = utcnow()
        jti = new_id()
        fixed = {**claims, "jti": jti, "iat": int(now.timestamp())}
        db.session.add(
            SsfEvent(
                stream_id=stream.id,
                jti=jti,
                event_type=event_type,
                payload=json.dumps({"alg": alg, "claims": fixed}, sort_keys=True),
                created_at=now,
                held=stream.status == "paused",
            )
        )
        db.session.flush()
        return 1
    notifications.queue(
        stream.client, "security_event", claims, url=stream.endpoint_url, stream_id=stream.id
    )
    return 1


def release(stream: SsfStream) -> int:
    """Deliver what an enabled stream holds: poll events become available, push events are
    queued in the outbox. In the caller's transaction; returns how many were released."""
    if stream.status != "enabled":
        return 0
    if stream.delivery_method == POLL:
        return db.session.execute(
            update(SsfEvent)
            .where(SsfEvent.stream_id == stream.id, SsfEvent.held.is_(True))
            .values(held=False)
            .execution_options(synchronize_session=False)
        ).rowcount
    rows = list(
        db.session.scalars(
            select(SsfEvent).where(SsfEvent.stream_id == stream.id).order_by(SsfEvent.id)
        )
    )
    for row in rows:
        claims = json.loads(row.payload)["claims"]
        # The outbox signs each attempt afresh with its own jti and iat.
        claims = {k: v for k, v in claims.items() if k not in ("jti", "iat")}
        notifications.queue(
            stream.client, "security_event", claims, url=stream.endpoint_url, stream_id=stream.id
        )
    if rows:
        db.session.execute(
            delete(SsfEvent)
            .where(SsfEvent.id.in_([r.id for r in rows]))
            .execution_options(synchronize_session=False)
        )
    return len(rows)


def forget(stream: SsfStream) -> None:
    """The stream goes with what it holds and its pushes not yet delivered (in the caller's
    transaction); delivered pushes stay in the outbox's history, without their stream."""
    drop_held(stream)
    db.session.execute(
        delete(PartnerNotification)
        .where(
            PartnerNotification.stream_id == stream.id,
            PartnerNotification.delivered_at.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.delete(stream)


def drop_held(stream: SsfStream) -> int:
    """A disabled stream keeps nothing (SSF §8.1.2); returns how many SETs were dropped."""
    return db.session.execute(
        delete(SsfEvent)
        .where(SsfEvent.stream_id == stream.id)
        .execution_options(synchronize_session=False)
    ).rowcount
