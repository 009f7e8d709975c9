"""Withdrawing a member's consent at a partner, with immediate effect (SPEC.md §7).

One transaction does everything: every access and refresh token of the member
at every client of the partner is revoked, each standing consent is marked
withdrawn (the row and its evidence stay), the withdrawal is recorded as
evidence and in the audit log, and the partner's notifications are queued in
the outbox, so they exist exactly when the withdrawal does:

- OIDC Back-Channel Logout 1.0 logout tokens for each session in which the
  client received tokens (when it registered a ``backchannel_logout_uri``);
- an RFC 8417 Security Event Token, delivered through the client's Shared
  Signals stream or pushed (RFC 8935) to its ``security_event_uri``
  (``ssf_events.publish``), carrying two events: the standard
  ``token-revoked`` event of the OpenID Shared Signals framework and the
  provider's own consent revocation event ``<issuer>/secevent/consent-revoked``
  (``CONSENT_REVOKED_PATH``), whose payload names the withdrawn scopes and
  purposes and who withdrew (``member``, ``admin``, ``account_deletion`` or
  ``partner``).

Callers: the Connected apps page (member), administration, account deletion
(``withdraw_all_for_member``), and the grant management API, where one client
releases its own grant (``withdraw_grant``, actor ``partner``): the same
withdrawal, limited to that client, recorded so the member sees it in the
consent history.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Consent, Member, Partner, Token
from idp.models.types import utcnow
from idp.services import audit, linked_profiles, notifications, ssf_events, tokens
from idp.services.backchannel_logout import logout_claims
from idp.services.consent_evidence import add_record
from idp.services.security_events import member_event_claims

TOKEN_REVOKED_EVENT = ssf_events.TOKEN_REVOKED
#: Appended to the issuer: the event type URI of a consent withdrawal.
CONSENT_REVOKED_PATH = ssf_events.CONSENT_REVOKED_PATH
ACTORS = ("member", "admin", "account_deletion", "partner")


@dataclass
class Withdrawal:
    """What one withdrawal did."""

    consents_withdrawn: int
    tokens_revoked: int
    notifications_queued: int


def consent_revoked_event() -> str:
    return current_app.config["IDP"].issuer.rstrip("/") + CONSENT_REVOKED_PATH


def security_event_claims(client: Client, member: Member, consent: Consent | None, actor: str):
    """The claims of the SET, less those set at signing (``iat``, ``jti``)."""
    return member_event_claims(
        client,
        member,
        lambda subject, _now: {
            TOKEN_REVOKED_EVENT: {"subject": subject, "reason": "consent_withdrawn"},
            consent_revoked_event(): {
                "scope": consent.scope if consent else "",
                "purposes": list(consent.purposes) if consent else [],
                "initiator": actor,
            },
        },
    )


def _live_sessions(member_id: str, client_ids: list[int]) -> list[tuple[str, int]]:
    """(sid, client) pairs with tokens still live, read before they are revoked."""
    now = utcnow()
    rows = db.session.execute(
        select(Token.sid, Token.client_id)
        .where(
            Token.member_id == member_id,
            Token.client_id.in_(client_ids),
            Token.sid.is_not(None),
            Token.revoked_at.is_(None),
            (Token.access_expires_at > now)
            | (Token.refresh_token_hash.is_not(None) & Token.refresh_used_at.is_(None)),
        )
        .distinct()
    )
    return sorted((sid, client_pk) for sid, client_pk in rows)


def withdraw_partner_access(
    member_id: str,
    partner_id: str,
    actor: str = "member",
    commit: bool = True,
    only_client: Client | None = None,
) -> Withdrawal:
    """Withdraw the member's consent at every client of a partner, in one transaction.

    With ``only_client``, at that client of the partner alone (``withdraw_grant``);
    a linked airline profile then stays linked, since the member linked it, not the
    client. Idempotent: a second call finds nothing standing, revokes nothing and
    queues nothing. Commits, unless ``commit`` is false (account deletion makes it
    part of its own transaction).
    """
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r}")
    member = db.session.get(Member, member_id)
    query = select(Client).where(Client.partner_id == partner_id)
    if only_client is not None:
        query = query.where(Client.id == only_client.id)
    clients = list(db.session.scalars(query))
    if member is None or not clients:
        return Withdrawal(0, 0, 0)
    client_ids = [c.id for c in clients]
    by_pk = {c.id: c for c in clients}
    now = utcnow()

    # Locked first, in one order, before any token: a refresh locks its consent before its
    # token too (``idp.oauth.refresh_token``), so the two wait for each other, never deadlock.
    standing = list(
        db.session.scalars(
            select(Consent)
            .where(
                Consent.member_id == member_id,
                Consent.client_id.in_(client_ids),
                Consent.withdrawn_at.is_(None),
            )
            .order_by(Consent.id)
            .with_for_update()
        )
    )
    sessions = _live_sessions(member_id, client_ids)
    revoked = tokens.revoke_for_member_at_client(member_id, client_ids)
    # A partner that is also a linked airline: the one withdrawal covers the link too.
    airlines = linked_profiles.airlines_of_partner(db.session.get(Partner, partner_id))
    if only_client is not None:
        airlines = []
    unlinked = linked_profiles.unlink_airlines(member_id, airlines, actor) if airlines else 0
    if not standing and not revoked and not unlinked:
        return Withdrawal(0, 0, 0)

    latest: dict[int, Consent] = {}
    for consent in standing:
        consent.withdrawn_at = now
        consent.updated_at = now
        add_record(consent, "withdrawn", actor=actor)
        latest[consent.client_id] = consent

    queued = 0
    for sid, client_pk in sessions:
        client = by_pk[client_pk]
        if client.backchannel_logout_uri:
            notifications.queue(
                client,
                "backchannel_logout",
                logout_claims(client, member, sid),
                url=client.backchannel_logout_uri,
            )
            queued += 1
    for client in clients:
        touched = client.id in latest or any(pk == client.id for _, pk in sessions)
        if touched:
            claims = security_event_claims(client, member, latest.get(client.id), actor)
            queued += ssf_events.publish(client, claims)

    audit.record(
        "consent.withdrawn",
        member_id=member_id,
        partner_id=partner_id,
        client_ids=sorted(by_pk[pk].client_id for pk in latest),
        consent_ids=sorted(c.id for c in standing),
        actor=actor,
        tokens_revoked=revoked,
        notifications=queued,
        profiles_unlinked=unlinked,
    )
    if commit:
        db.session.commit()
    return Withdrawal(len(standing), revoked, queued)


def withdraw_grant(consent: Consent, actor: str = "partner") -> Withdrawal:
    """The client that holds ``consent`` releases it (Grant Management §6.5): the member's
    withdrawal at that one client, with its evidence, revocations and notices. Commits."""
    client = consent.client
    return withdraw_partner_access(
        consent.member_id, client.partner_id, actor=actor, only_client=client
    )


def withdraw_all_for_member(
    member_id: str, actor: str = "account_deletion", commit: bool = True
) -> int:
    """Withdraw every partner's access (account deletion); returns the partners touched.

    With ``commit`` false, everything stays in the caller's transaction.
    """
    partner_ids = db.session.scalars(
        select(Client.partner_id)
        .join(Consent, Consent.client_id == Client.id)
        .where(Consent.member_id == member_id, Consent.withdrawn_at.is_(None))
        .distinct()
    ).all()
    for partner_id in sorted(partner_ids):
        withdraw_partner_access(member_id, partner_id, actor=actor, commit=commit)
    return len(partner_ids)
