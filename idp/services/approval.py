"""The approval of clients by Miles & More (SPEC.md §3, §9), and their suspension.

A client goes Draft → Waiting for approval (``submit_for_approval``) →
Approved (``approve``) or Rejected with the operator's reason (``reject``); a
rejected client can be submitted again. ``approved_at`` alone decides who may
use a client: before approval only its partner's developers
(``idp.oauth.authorize.interaction``), after it every member.

Suspension is apart from approval: a suspended client is refused everywhere
(authorization, client authentication) until it is reinstated, and
suspending it revokes every token it holds in the same transaction. The
partner is told through its registered back-channel endpoints: a logout token
per session in which the client held live tokens (OIDC Back-Channel Logout
1.0), and a ``token-revoked`` Security Event Token per member whose tokens
ended (RFC 8417, pushed per RFC 8935).

Every change is audited and, being an UPDATE of the client, raises its
``version``, so every process's copy of the client follows at once
(``idp.services.client_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from idp.extensions import db
from idp.models import Client, Member, Partner, Token
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, notifications, ssf_events
from idp.services.backchannel_logout import logout_claims
from idp.services.errors import Conflict, InvalidInput, NotFound
from idp.services.subjects import subject_for

TOKEN_REVOKED_EVENT = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"
MAX_REASON_LENGTH = 1000


@dataclass
class Suspension:
    """What one suspension did."""

    tokens_revoked: int
    notifications_queued: int


def find_client(client_id: str) -> Client:
    client = None
    if isinstance(client_id, str) and 0 < len(client_id) <= 64 and is_text(client_id):
        client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise NotFound("No client with this id.", "client_id")
    return client


def _reason(text: str | None, field: str = "reason") -> str:
    reason = (text or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", field)
    if len(reason) > MAX_REASON_LENGTH or not is_text(reason):
        raise InvalidInput("The reason is plain text of up to 1000 characters.", field)
    return reason


def submit_for_approval(client_id: str, member_id: str | None = None) -> Client:
    """Draft or Rejected → Waiting for approval. Commits."""
    client = find_client(client_id)
    status = client.approval_status
    if status == "waiting":
        return client
    if status == "approved":
        raise Conflict("This client is approved already.", "client_id")
    client.submitted_at = utcnow()
    client.rejected_at = None
    client.rejection_reason = None
    audit.record("client.submitted", member_id=member_id, client_id=client.client_id)
    db.session.commit()
    return client


def approve(client_id: str, operator_id: str | None = None) -> Client:
    """Usable by every member from now on; approving an approved client changes nothing."""
    client = find_client(client_id)
    if client.approved:
        return client
    client.approved_at = utcnow()
    client.rejected_at = None
    client.rejection_reason = None
    audit.record("client.approved", member_id=operator_id, client_id=client.client_id)
    db.session.commit()
    return client


def reject(client_id: str, reason: str, operator_id: str | None = None) -> Client:
    """Refuse a client not approved yet; its developers see ``reason``. Commits."""
    reason = _reason(reason)
    client = find_client(client_id)
    if client.approved:
        raise Conflict("This client is approved already; suspend it to stop its use.", "client_id")
    client.rejected_at = utcnow()
    client.rejection_reason = reason
    audit.record("client.rejected", member_id=operator_id, client_id=client.client_id)
    db.session.commit()
    return client


def suspend(client_id: str, reason: str, operator_id: str | None = None) -> Suspension:
    """Refuse the client everywhere and revoke all its tokens, in one transaction."""
    reason = _reason(reason)
    client = find_client(client_id)
    if client.suspended:
        raise Conflict("This client is suspended already.", "client_id")
    sessions = _live_sessions(client.id)
    revoked = _revoke_tokens(client.id)
    client.suspended_at = utcnow()
    client.suspension_reason = reason
    queued = _notify(client, sessions)
    audit.record(
        "client.suspended",
        member_id=operator_id,
        client_id=client.client_id,
        tokens_revoked=revoked,
        notifications=queued,
    )
    db.session.commit()
    return Suspension(revoked, queued)


def reinstate(client_id: str, operator_id: str | None = None) -> Client:
    """End a suspension; tokens revoked by it stay revoked. Commits."""
    client = find_client(client_id)
    if not client.suspended:
        raise Conflict("This client is not suspended.", "client_id")
    client.suspended_at = None
    client.suspension_reason = None
    audit.record("client.reinstated", member_id=operator_id, client_id=client.client_id)
    db.session.commit()
    return client


def waiting_for_approval() -> list[Client]:
    """The approval queue, oldest submission first, with each client's partner."""
    return list(
        db.session.scalars(
            select(Client)
            .options(joinedload(Client.partner))
            .where(
                Client.submitted_at.is_not(None),
                Client.approved_at.is_(None),
                Client.rejected_at.is_(None),
            )
            .order_by(Client.submitted_at, Client.id)
        )
    )


def _live_sessions(client_pk: int) -> list[tuple[str, str | None]]:
    """(member, sid) pairs with tokens of the client still live, read before revoking."""
    now = utcnow()
    rows = db.session.execute(
        select(Token.member_id, Token.sid)
        .where(
            Token.client_id == client_pk,
            Token.member_id.is_not(None),
            Token.revoked_at.is_(None),
            (Token.access_expires_at > now)
            | (Token.refresh_token_hash.is_not(None) & Token.refresh_used_at.is_(None)),
        )
        .distinct()
    )
    return sorted(rows, key=lambda row: (row[0], row[1] or ""))


def _revoke_tokens(client_pk: int) -> int:
    """Every token of the client, access and refresh alike, as a withdrawal revokes them."""
    result = db.session.execute(
        update(Token)
        .where(Token.client_id == client_pk, Token.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def _notify(client: Client, sessions: list[tuple[str, str | None]]) -> int:
    streamed = ssf_events.has_stream(client)
    if not (client.backchannel_logout_uri or client.security_event_uri or streamed):
        return 0
    member_ids = {member_id for member_id, _ in sessions}
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    queued = 0
    if client.backchannel_logout_uri:
        for member_id, sid in sessions:
            if sid is not None:
                claims = logout_claims(client, members.get(member_id), sid)
                notifications.queue(
                    client, "backchannel_logout", claims, url=client.backchannel_logout_uri
                )
                queued += 1
    if client.security_event_uri or streamed:
        for member in sorted(members.values(), key=lambda m: m.id):
            queued += ssf_events.publish(client, _revoked_event(client, member))
    return queued


def _revoked_event(client: Client, member: Member) -> dict:
    """The claims of a SET telling the partner its tokens for this member ended."""
    issuer = current_app.config["IDP"].issuer
    subject = subject_for(member, client)
    return {
        "iss": issuer,
        "aud": client.client_id,
        "sub": subject,
        "toe": int(utcnow().timestamp()),
        "events": {
            TOKEN_REVOKED_EVENT: {
                "subject": {"format": "iss_sub", "iss": issuer, "sub": subject},
                "reason": "client_suspended",
            }
        },
    }


def every_client() -> list[Client]:
    """Every client with its partner, by partner name then client name."""
    return list(
        db.session.scalars(
            select(Client)
            .join(Partner, Partner.id == Client.partner_id)
            .options(joinedload(Client.partner))
            .order_by(Partner.name, Client.client_name, Client.id)
        )
    )
