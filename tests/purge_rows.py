"""Rows on either side of every retention rule, for the purge tests.

``seed()`` writes, for each table ``mam-idp purge`` cleans, rows whose purpose
has ended and rows still in use, plus consent records and audit events (which
are never purged), and returns which of them must go and which must stay.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from idp.extensions import db
from idp.models import (
    AuditEvent,
    AuthorizationCode,
    ClientAssertion,
    ConsentRecord,
    ConsentStep,
    DPoPProof,
    EmailChange,
    EmailCode,
    InitialAccessToken,
    Lockout,
    OutgoingMail,
    PartnerNotification,
    PasskeyChallenge,
    PushedAuthorizationRequest,
    SsfEvent,
    SsfStream,
    SSOSession,
    Token,
    UpstreamRequest,
)
from idp.models.ssf import POLL
from idp.models.types import utcnow
from idp.services import mail as mail_service
from tests.factories import make_client, make_consent, make_member

PURGED_TABLES = (
    "tokens",
    "authorization_codes",
    "consent_steps",
    "pushed_authorization_requests",
    "sso_sessions",
    "client_assertions",
    "dpop_proofs",
    "email_codes",
    "email_changes",
    "mail_outbox",
    "partner_notifications",
    "ssf_events",
    "lockouts",
    "upstream_requests",
    "initial_access_tokens",
    "passkey_challenges",
)
MODELS = {
    "tokens": Token,
    "authorization_codes": AuthorizationCode,
    "consent_steps": ConsentStep,
    "pushed_authorization_requests": PushedAuthorizationRequest,
    "sso_sessions": SSOSession,
    "client_assertions": ClientAssertion,
    "dpop_proofs": DPoPProof,
    "email_codes": EmailCode,
    "email_changes": EmailChange,
    "mail_outbox": OutgoingMail,
    "partner_notifications": PartnerNotification,
    "ssf_events": SsfEvent,
    "lockouts": Lockout,
    "upstream_requests": UpstreamRequest,
    "initial_access_tokens": InitialAccessToken,
    "passkey_challenges": PasskeyChallenge,
}


@dataclass
class Seeded:
    gone: dict[str, set] = field(default_factory=lambda: {t: set() for t in PURGED_TABLES})
    kept: dict[str, set] = field(default_factory=lambda: {t: set() for t in PURGED_TABLES})
    #: The token that must forget the purged code it came from.
    token_of_purged_code: int | None = None
    consent_records: int = 0
    audit_events: int = 0

    def expected_counts(self) -> dict[str, int]:
        return {table: len(ids) for table, ids in self.gone.items()}


def _hash() -> str:
    return secrets.token_hex(32)


def present(table: str) -> set:
    model = MODELS[table]
    (key,) = model.__mapper__.primary_key
    return set(db.session.scalars(select(key)))


def seed() -> Seeded:
    now = utcnow()
    long_ago = now - timedelta(days=3)  # past the one-day grace
    recently = now - timedelta(hours=1)  # ended, but within the grace
    month_ago = now - timedelta(days=31)  # past the 30-day retention
    later = now + timedelta(hours=1)
    out = Seeded()
    member, _password, _key = make_member()
    client, _secret = make_client()
    consent = make_consent(member, client)
    withdrawn = make_consent(member, make_client()[0], withdrawn_at=long_ago)
    db.session.add(
        ConsentRecord(
            consent_id=withdrawn.id,
            member_id=member.id,
            client_id=withdrawn.client_id,
            action="withdrawn",
            scope=withdrawn.scope,
            created_at=month_ago,
        )
    )
    db.session.add(AuditEvent(event="test.old_event", member_id=member.id, occurred_at=month_ago))

    def add(table: str, row, keep: bool):
        db.session.add(row)
        db.session.flush()
        (out.kept if keep else out.gone)[table].add(
            row.__mapper__.primary_key_from_instance(row)[0]
        )
        return row

    def token(keep: bool, **fields):
        values = dict(
            client_id=client.id,
            member_id=member.id,
            consent_id=consent.id,
            access_token_hash=_hash(),
            scope="openid",
            issued_at=long_ago,
            access_expires_at=later,
        )
        values.update(fields)
        if values.get("refresh_token_hash") is True:
            values["refresh_token_hash"] = _hash()
        return add("tokens", Token(**values), keep)

    # Authorization codes: one long expired whose tokens live on, one just used.
    old_code = add(
        "authorization_codes",
        AuthorizationCode(
            code_hash=_hash(),
            client_id=client.id,
            member_id=member.id,
            redirect_uri="https://p",
            scope="openid",
            auth_time=long_ago,
            created_at=long_ago,
            expires_at=long_ago + timedelta(minutes=10),
            used_at=long_ago,
        ),
        keep=False,
    )
    add(
        "authorization_codes",
        AuthorizationCode(
            code_hash=_hash(),
            client_id=client.id,
            member_id=member.id,
            redirect_uri="https://p",
            scope="openid",
            auth_time=recently,
            created_at=recently,
            expires_at=recently + timedelta(minutes=10),
            used_at=recently,
        ),
        keep=True,
    )

    # Tokens.
    token(False, access_expires_at=long_ago)  # access only, expired
    token(True, access_expires_at=recently)  # expired within the grace
    token(True)  # live access token
    live_grant = token(  # a grant without time limit: its refresh token lives on
        True, access_expires_at=long_ago, refresh_token_hash=True, code_id=old_code.id
    )
    out.token_of_purged_code = live_grant.id
    token(False, access_expires_at=long_ago, refresh_token_hash=True, refresh_expires_at=long_ago)
    token(False, revoked_at=long_ago)
    token(True, revoked_at=recently)
    token(False, consent_id=withdrawn.id, client_id=withdrawn.client_id)
    # A family refreshed once: the rotated row stays while its successor lives (reuse detection).
    family = secrets.token_hex(16)
    token(
        True,
        family_id=family,
        access_expires_at=long_ago,
        refresh_token_hash=True,
        refresh_used_at=long_ago,
    )
    token(True, family_id=family, access_expires_at=long_ago, refresh_token_hash=True)
    # A family whose last refresh token expired: all of it goes.
    ended = secrets.token_hex(16)
    token(
        False,
        family_id=ended,
        access_expires_at=long_ago,
        refresh_token_hash=True,
        refresh_used_at=long_ago,
    )
    token(
        False,
        family_id=ended,
        access_expires_at=long_ago,
        refresh_token_hash=True,
        refresh_expires_at=long_ago,
    )
    # A rotated row older than the retention goes even while its family lives.
    aged = secrets.token_hex(16)
    token(
        False,
        family_id=aged,
        access_expires_at=month_ago,
        refresh_token_hash=True,
        refresh_used_at=month_ago,
    )
    token(True, family_id=aged, access_expires_at=long_ago, refresh_token_hash=True)

    # Consent steps.
    def step(keep: bool, **fields):
        values = dict(
            client_id=client.id,
            member_id=member.id,
            sid="s",
            parameters={},
            created_at=long_ago,
            expires_at=later,
        )
        values.update(fields)
        return add("consent_steps", ConsentStep(**values), keep)

    step(False, expires_at=long_ago)
    step(False, used_at=long_ago)
    step(True, expires_at=recently)
    step(True)

    # Pushed authorization requests (RFC 9126).
    def pushed(keep: bool, **fields):
        values = dict(
            reference_hash=_hash(),
            client_id=client.id,
            parameters={},
            created_at=long_ago,
            expires_at=later,
        )
        values.update(fields)
        return add("pushed_authorization_requests", PushedAuthorizationRequest(**values), keep)

    pushed(False, expires_at=long_ago)
    pushed(False, expires_at=long_ago, used_at=long_ago, completed_at=long_ago)
    pushed(True, expires_at=recently, used_at=recently)  # its browser may still be coming back
    pushed(True)

    # SSO sessions.
    def session(keep: bool, **fields):
        values = dict(
            token_hash=_hash(),
            member_id=member.id,
            auth_time=long_ago,
            created_at=long_ago,
            last_seen_at=now,
            expires_at=later,
        )
        values.update(fields)
        return add("sso_sessions", SSOSession(**values), keep)

    session(False, ended_at=long_ago)
    session(False, expires_at=long_ago)
    session(False, last_seen_at=long_ago)  # idle for days
    session(True, ended_at=recently)
    session(True)

    # Client assertions (jti replay records).
    add(
        "client_assertions",
        ClientAssertion(client_id=client.id, jti="spent", expires_at=now - timedelta(minutes=1)),
        keep=False,
    )
    add(
        "client_assertions",
        ClientAssertion(client_id=client.id, jti="live", expires_at=later),
        keep=True,
    )

    # DPoP proofs (jti replay records).
    add("dpop_proofs", DPoPProof(jti_hash=_hash(), expires_at=now - timedelta(seconds=1)), False)
    add("dpop_proofs", DPoPProof(jti_hash=_hash(), expires_at=later), True)

    # Email codes.
    def email_code(keep: bool, **fields):
        values = dict(member_id=member.id, code_hash=_hash(), created_at=long_ago, expires_at=later)
        values.update(fields)
        return add("email_codes", EmailCode(**values), keep)

    email_code(False, expires_at=long_ago)
    email_code(False, used_at=long_ago)
    email_code(True, expires_at=recently)
    email_code(True)

    # Links confirming a new email address.
    def email_change(keep: bool, **fields):
        values = dict(member_id=member.id, token_hash=_hash(), new_email="new@example.org",
                      created_at=long_ago, expires_at=later)
        values.update(fields)
        return add("email_changes", EmailChange(**values), keep)

    email_change(False, expires_at=long_ago)
    email_change(False, confirmed_at=long_ago)
    email_change(False, cancelled_at=long_ago)
    email_change(True, expires_at=recently)  # within the grace
    email_change(True, confirmed_at=recently)
    email_change(True)  # still waiting for the link

    # The mail outbox.
    def letter(keep: bool, **fields):
        row = mail_service.queue_mail("anna@example.com", "Subject", "Body", "email_code")
        for name, value in fields.items():
            setattr(row, name, value)
        db.session.flush()
        (out.kept if keep else out.gone)["mail_outbox"].add(row.id)

    letter(False, sent_at=month_ago, attempts=1)
    letter(False, attempts=mail_service.MAX_ATTEMPTS, next_attempt_at=month_ago)
    letter(True, sent_at=long_ago, attempts=1)
    letter(True)  # still to be sent

    # Partner notifications.
    def notification(keep: bool, **fields):
        values = dict(
            client_id=client.id,
            kind="backchannel_logout",
            url="https://p/logout",
            payload="{}",
            created_at=month_ago,
            next_attempt_at=month_ago,
        )
        values.update(fields)
        return add("partner_notifications", PartnerNotification(**values), keep)

    notification(False, delivered_at=month_ago)
    notification(False, abandoned_at=month_ago)
    notification(True, delivered_at=long_ago)
    notification(True)  # still to be delivered

    # SETs waiting in a Shared Signals stream.
    stream = SsfStream(client_id=client.id, audience=client.client_id, delivery_method=POLL)
    db.session.add(stream)
    db.session.flush()
    for keep, created in ((False, month_ago), (True, long_ago)):
        values = dict(stream_id=stream.id, jti=secrets.token_hex(8), event_type="e", payload="{}")
        add("ssf_events", SsfEvent(created_at=created, **values), keep)

    # Lockouts.
    def lockout(keep: bool, **fields):
        values = dict(
            key=f"test:{secrets.token_hex(8)}", failures=1, lockouts=1, updated_at=month_ago
        )
        values.update(fields)
        return add("lockouts", Lockout(**values), keep)

    lockout(False)
    lockout(False, locked_until=month_ago)
    lockout(True, locked_until=later)  # still locked
    lockout(True, updated_at=long_ago)  # recent failures count

    # Requests sent to an airline's ID service.
    def upstream_request(keep: bool, **fields):
        values = dict(state_hash=_hash(), browser_hash=_hash(), airline="lufthansa",
                      purpose="login", nonce_hash=_hash(), code_verifier="v" * 43,
                      created_at=long_ago, expires_at=later)
        values.update(fields)
        return add("upstream_requests", UpstreamRequest(**values), keep)

    upstream_request(False, expires_at=long_ago)
    upstream_request(False, expires_at=long_ago, used_at=long_ago)
    upstream_request(True, expires_at=recently)  # within the grace
    upstream_request(True)  # still waiting for the airline

    # RFC 7591 initial access tokens.
    def initial_token(keep: bool, **fields):
        values = dict(token_hash=_hash(), partner_id=client.partner_id, max_uses=None, uses=0,
                      expires_at=later, created_at=long_ago)
        values.update(fields)
        return add("initial_access_tokens", InitialAccessToken(**values), keep)

    initial_token(False, expires_at=long_ago)
    initial_token(False, expires_at=long_ago, max_uses=1, uses=1)
    initial_token(True, expires_at=recently)  # within the grace
    initial_token(True, max_uses=3, uses=3)  # used up, but not yet expired
    initial_token(True)  # still usable

    # WebAuthn challenges.
    def passkey_challenge(keep: bool, **fields):
        values = dict(challenge_hash=_hash(), member_id=member.id, purpose="login",
                      created_at=long_ago, expires_at=later)
        values.update(fields)
        return add("passkey_challenges", PasskeyChallenge(**values), keep)

    passkey_challenge(False, expires_at=recently)
    passkey_challenge(False, expires_at=recently, used_at=long_ago)
    passkey_challenge(True)  # still waiting for the browser
    passkey_challenge(True, used_at=recently)  # answered; a replay is refused until it expires

    db.session.commit()
    out.consent_records = db.session.scalar(select(db.func.count(ConsentRecord.id)))
    out.audit_events = db.session.scalar(select(db.func.count(AuditEvent.id)))
    return out
