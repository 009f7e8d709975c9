"""Retention: rows are deleted once their purpose has ended (``mam-idp purge``).

Each table that holds short-lived or one-time data has one rule, applied in
this order (children before the rows they point to):

============================  ===============================================================
table                         deleted when
============================  ===============================================================
``tokens``                    its grant ended more than ``GRACE`` ago: revoked, its consent
                              withdrawn or expired, or its access token expired and its
                              refresh token (if any) expired too; a refresh token already
                              rotated goes once its family has no live refresh token, or
                              ``RETENTION`` after it was rotated (until then a replay of it
                              revokes the family, OAuth 2.0 Security BCP §4.14.2)
``authorization_codes``       expired more than ``GRACE`` ago, used or not (a replay until
                              then still revokes the tokens issued from it, RFC 6749 §4.1.2);
                              tokens that remain forget which code they came from
``consent_steps``             expired or answered more than ``GRACE`` ago
``pushed_authorization_``     RFC 9126 pushed requests expired more than ``GRACE`` (and the
``requests``                  time the first browser may come back with one) ago
``sso_sessions``              ended, expired, or idle past the idle timeout, ``GRACE`` ago
``client_assertions``         the assertion expired: its ``jti`` cannot be replayed after that
                              (RFC 7523 §3)
``dpop_proofs``               the proof is past its age limit: its ``jti`` cannot be replayed
                              after that (RFC 9449 §11.1)
``email_codes``               expired or used more than ``GRACE`` ago
``email_changes``             links to confirm a new address: expired, confirmed or replaced
                              more than ``GRACE`` ago
``mail_outbox``               sent, or given up, more than ``RETENTION`` ago
``partner_notifications``     delivered or abandoned more than ``RETENTION`` ago
``ssf_events``                SETs of a Shared Signals stream queued more than ``RETENTION``
                              ago and never acknowledged (a receiver that stopped polling)
``lockouts``                  not locked and untouched for ``RETENTION``
``upstream_requests``         requests sent to an airline's ID service, expired more than
                              ``GRACE`` ago, answered or not
``initial_access_tokens``     RFC 7591 initial access tokens expired more than ``GRACE`` ago,
                              used up or not (the clients they registered keep no link to
                              them; the audit log names each registration)
``passkey_challenges``        the WebAuthn challenge expired: no response can answer it then
============================  ===============================================================

Never deleted by these rules: ``consent_records`` and ``linking_records`` (the
evidence of every consent and linking decision) and ``audit_events`` (the
audit log), nor members, consents, linked profiles, clients and signing keys,
whose lives end by a decision, not a clock.

Blocked data of deleted accounts (``idp.services.account_deletion``) is the
one exception, erased once the retention period stored with the erasure has
ended (``IDP_EVIDENCE_RETENTION_DAYS``, ``IDP_AUDIT_RETENTION_DAYS``, 10 years
by default):

============================  ===============================================================
``consent_records``,          the account's consent evidence, its withdrawn consents, its
``linking_records``,          revoked tokens and the member row itself, once
``consents``, ``members``     ``evidence_blocked_until`` has passed
``audit_events``              the account's audit events, once ``audit_blocked_until`` has
                              passed (the purge marks the erasure first: only then does the
                              database allow the delete)
``member_erasures``           the marker itself, once both of the above are gone; the card
                              numbers' ``retired_card_numbers`` stay for good
============================  ===============================================================
 A login waiting
for its second factor lives in the signed session cookie and needs no purge.

Rows go in batches, one transaction per batch, so a purge of a large backlog
never holds long locks; each batch repeats the rule in its DELETE, so a row
that came back to life meanwhile (a lockout touched again) stays. A purge that
deleted anything leaves one audit event with the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from idp.extensions import db
from idp.models import (
    AuditEvent,
    AuthorizationCode,
    ClientAssertion,
    Consent,
    ConsentRecord,
    ConsentStep,
    DPoPProof,
    EmailChange,
    EmailCode,
    InitialAccessToken,
    LinkingRecord,
    Lockout,
    Member,
    MemberErasure,
    OutgoingMail,
    PartnerNotification,
    PasskeyChallenge,
    PushedAuthorizationRequest,
    SsfEvent,
    SSOSession,
    Token,
    UpstreamRequest,
)
from idp.models.types import utcnow
from idp.services import audit, pushed_requests
from idp.services import mail as mail_service

#: How long ended one-time things, tokens and sessions stay for audit and replay detection.
GRACE = timedelta(days=1)
#: How long the outboxes keep what they sent, and how long a quiet lockout row is kept.
RETENTION = timedelta(days=30)
#: Tables this service never deletes from.
PROTECTED_TABLES = frozenset({"consent_records", "audit_events", "linking_records"})
DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class Rule:
    model: type
    #: The rows past their purpose, as a SQL condition, given the time of the purge.
    condition: Callable[[datetime], object]
    #: Called with each batch's primary keys before they are deleted (same transaction).
    before_delete: Callable[[list], None] | None = None

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @property
    def key(self):
        (column,) = self.model.__mapper__.primary_key
        return column


def _tokens_ended(now: datetime):
    cutoff = now - GRACE
    ended_consents = select(Consent.id).where(
        or_(Consent.withdrawn_at < cutoff, Consent.expires_at < cutoff)
    )
    other = aliased(Token)
    family_alive = exists().where(
        other.family_id == Token.family_id,
        other.refresh_token_hash.is_not(None),
        other.revoked_at.is_(None),
        other.refresh_used_at.is_(None),
        or_(other.refresh_expires_at.is_(None), other.refresh_expires_at >= cutoff),
    )
    return or_(
        Token.revoked_at < cutoff,
        Token.consent_id.in_(ended_consents),
        and_(
            Token.access_expires_at < cutoff,
            or_(
                Token.refresh_token_hash.is_(None),
                Token.refresh_expires_at < cutoff,
                and_(
                    Token.refresh_used_at.is_not(None),
                    or_(Token.refresh_used_at < now - RETENTION, ~family_alive),
                ),
            ),
        ),
    )


def _forget_codes(code_ids: list) -> None:
    # tokens.code_id only serves to revoke a replayed code's tokens; the code is going.
    db.session.execute(
        update(Token)
        .where(Token.code_id.in_(code_ids))
        .values(code_id=None)
        .execution_options(synchronize_session=False)
    )


def _sessions_ended(now: datetime):
    cutoff = now - GRACE
    idle = timedelta(seconds=current_app.config["IDP"].session_idle_seconds)
    return or_(
        SSOSession.ended_at < cutoff,
        SSOSession.expires_at < cutoff,
        SSOSession.last_seen_at < cutoff - idle,
    )


RULES: tuple[Rule, ...] = (
    Rule(Token, _tokens_ended),
    Rule(
        AuthorizationCode,
        lambda now: AuthorizationCode.expires_at < now - GRACE,
        before_delete=_forget_codes,
    ),
    Rule(
        ConsentStep,
        lambda now: or_(ConsentStep.expires_at < now - GRACE, ConsentStep.used_at < now - GRACE),
    ),
    Rule(
        PushedAuthorizationRequest,
        # A request is used before it expires; its browser may come back for HOLD after that.
        lambda now: PushedAuthorizationRequest.expires_at < now - GRACE - pushed_requests.HOLD,
    ),
    Rule(SSOSession, _sessions_ended),
    Rule(ClientAssertion, lambda now: ClientAssertion.expires_at < now),
    Rule(DPoPProof, lambda now: DPoPProof.expires_at < now),
    Rule(
        EmailCode,
        lambda now: or_(EmailCode.expires_at < now - GRACE, EmailCode.used_at < now - GRACE),
    ),
    Rule(
        EmailChange,
        lambda now: or_(
            EmailChange.expires_at < now - GRACE,
            EmailChange.confirmed_at < now - GRACE,
            EmailChange.cancelled_at < now - GRACE,
        ),
    ),
    Rule(
        OutgoingMail,
        lambda now: or_(
            OutgoingMail.sent_at < now - RETENTION,
            and_(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.attempts >= mail_service.MAX_ATTEMPTS,
                OutgoingMail.next_attempt_at < now - RETENTION,
            ),
        ),
    ),
    Rule(
        PartnerNotification,
        lambda now: or_(
            PartnerNotification.delivered_at < now - RETENTION,
            PartnerNotification.abandoned_at < now - RETENTION,
        ),
    ),
    Rule(SsfEvent, lambda now: SsfEvent.created_at < now - RETENTION),
    Rule(
        Lockout,
        lambda now: and_(
            Lockout.updated_at < now - RETENTION,
            or_(Lockout.locked_until.is_(None), Lockout.locked_until < now),
        ),
    ),
    Rule(UpstreamRequest, lambda now: UpstreamRequest.expires_at < now - GRACE),
    Rule(InitialAccessToken, lambda now: InitialAccessToken.expires_at < now - GRACE),
    Rule(PasskeyChallenge, lambda now: PasskeyChallenge.expires_at < now),
)


def purge(
    dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE, now: datetime | None = None
) -> dict[str, int]:
    """Delete (or, with ``dry_run``, count) every row past its purpose; counts per table.

    Commits once per batch; a dry run writes nothing.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or utcnow()
    counts: dict[str, int] = {}
    for rule in RULES:
        if rule.table in PROTECTED_TABLES:  # pragma: no cover - a rule must never name them
            raise RuntimeError(f"{rule.table} is never purged")
        counts[rule.table] = _count(rule, now) if dry_run else _delete(rule, now, batch_size)
    for table, erased in _erase_blocked(now, dry_run).items():
        if erased:  # tables of blocked data are named only when something went
            counts[table] = counts.get(table, 0) + erased
    if dry_run:
        db.session.rollback()
    elif any(counts.values()):
        audit.record("retention.purged", **{t: n for t, n in counts.items() if n})
        db.session.commit()
    return counts


def _count(rule: Rule, now: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(rule.model).where(rule.condition(now))
    )


def _delete(rule: Rule, now: datetime, batch_size: int) -> int:
    deleted = 0
    while True:
        keys = list(
            db.session.scalars(
                select(rule.key).where(rule.condition(now)).order_by(rule.key).limit(batch_size)
            )
        )
        if not keys:
            break
        if rule.before_delete is not None:
            rule.before_delete(keys)
        result = db.session.execute(
            delete(rule.model)
            .where(rule.key.in_(keys), rule.condition(now))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        deleted += result.rowcount
        if len(keys) < batch_size:
            break
    return deleted


# -- blocked data of deleted accounts ---------------------------------------------

#: What goes when a deleted account's evidence period ends, children first.
_EVIDENCE_MODELS = (ConsentRecord, LinkingRecord, Token, Consent, Member)


def _erase_blocked(now: datetime, dry_run: bool) -> dict[str, int]:
    """Erase (or count) the blocked data whose retention period has ended; commits.

    Counts per table; ``tokens`` counts the revoked tokens of erased accounts
    that the token rule above had not yet removed.
    """
    evidence_ids = list(
        db.session.scalars(
            select(MemberErasure.member_id).where(
                MemberErasure.evidence_erased_at.is_(None),
                MemberErasure.evidence_blocked_until <= now,
            )
        )
    )
    audit_ids = list(
        db.session.scalars(
            select(MemberErasure.member_id).where(
                MemberErasure.audit_erased_at.is_(None),
                MemberErasure.audit_blocked_until <= now,
            )
        )
    )
    counts: dict[str, int] = {}
    for model in _EVIDENCE_MODELS:
        key = Member.id if model is Member else model.member_id
        if dry_run:
            counts[model.__tablename__] = _count_where(model, key.in_(evidence_ids))
        else:
            counts[model.__tablename__] = _delete_where(model, key.in_(evidence_ids))
    if dry_run:
        counts["audit_events"] = _count_where(AuditEvent, AuditEvent.member_id.in_(audit_ids))
        counts["member_erasures"] = 0
        return counts
    if evidence_ids:
        db.session.execute(
            update(MemberErasure)
            .where(MemberErasure.member_id.in_(evidence_ids))
            .values(evidence_erased_at=now)
        )
    if audit_ids:
        # The database allows deleting these events only once the marker says so.
        db.session.execute(
            update(MemberErasure)
            .where(MemberErasure.member_id.in_(audit_ids))
            .values(audit_erased_at=now)
        )
    counts["audit_events"] = _delete_where(AuditEvent, AuditEvent.member_id.in_(audit_ids))
    counts["member_erasures"] = _delete_where(
        MemberErasure,
        and_(MemberErasure.evidence_erased_at.is_not(None), MemberErasure.audit_erased_at.is_not(None)),
    )
    db.session.commit()
    return counts


def _count_where(model, condition) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(condition))


def _delete_where(model, condition) -> int:
    result = db.session.execute(
        delete(model).where(condition).execution_options(synchronize_session=False)
    )
    return result.rowcount
