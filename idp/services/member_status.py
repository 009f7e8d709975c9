"""An operator disables a member account, or enables it again (RISC 1.0 §2.3 and §2.4).

``disable`` does everything in one transaction, so a refusal or a failure
leaves the account as it was:

1. ``members.disabled_at`` and ``disabled_reason`` are set in one conditional
   UPDATE, so an account disabled already (also by a second operator at the
   same moment) is refused with ``Conflict`` and nothing is written;
2. every SSO session of the member ends, each partner that received tokens in
   one gets a back-channel logout token and, with a stream, the CAEP
   ``session-revoked`` event (``sso.end_member_sessions``, as End session does);
3. every token of the member is revoked, at every client;
4. each client with a standing consent and a Shared Signals stream gets the
   RISC ``account-disabled`` event (``ssf_member_events``), with the RISC
   ``reason`` when it is ``hijacking`` or ``bulk-account``;
5. the audit event ``account.disabled``.

While the account is disabled the login refuses it once the password is right
(``authentication``), a password reset and an enrolment link lead nowhere, and
the token endpoint issues nothing for it (``idp.oauth``). The consents stay:
disabling is not a withdrawal.

``enable`` clears the marker in the same way (``Conflict`` when the account is
not disabled), records ``account.enabled`` and sends RISC ``account-enabled``.
Revoked tokens stay revoked: the member logs in again and partners get new
tokens through the usual flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from idp.extensions import db
from idp.models import Member, Token
from idp.models.types import utcnow
from idp.services import audit, ssf_member_events, sso
from idp.services.errors import Conflict, InvalidInput
from idp.services.member_reference import require_member

#: RISC 1.0 §2.3 defines ``hijacking`` and ``bulk-account``; ``other`` is sent without a reason.
REASONS = ("hijacking", "bulk-account", "other")
RISC_REASONS = frozenset({"hijacking", "bulk-account"})


@dataclass
class StatusChange:
    """What disabling or enabling one account did."""

    member: Member
    disabled_at: datetime | None
    reason: str | None
    sessions_ended: int
    tokens_revoked: int
    partners_notified: int


def disable(reference: str, reason: str, actor: str = "admin") -> StatusChange:
    """Disable the member named by ``reference`` (id, email or card number). Commits."""
    if reason not in REASONS:
        raise InvalidInput("The reason is hijacking, bulk-account or other.", "reason")
    member = require_member(reference)
    now = utcnow()
    try:
        if not _set_disabled(member.id, now, reason):
            raise Conflict("This member account is disabled already.", "member")
        sessions = sso.end_member_sessions(member.id, reason="account_disabled", commit=False)
        revoked = _revoke_all_tokens(member.id, now)
        notified = ssf_member_events.account_disabled(
            member, ssf_member_events.standing_clients(member.id), _risc_reason(reason)
        )
        audit.record(
            "account.disabled",
            member_id=member.id,
            reason=reason,
            actor=actor,
            sessions_ended=sessions,
            tokens_revoked=revoked,
            partners_notified=notified,
        )
        db.session.commit()
    except (Conflict, SQLAlchemyError):
        db.session.rollback()
        raise
    db.session.refresh(member)
    return StatusChange(member, now, reason, sessions, revoked, notified)


def enable(reference: str, actor: str = "admin") -> StatusChange:
    """Enable the disabled member named by ``reference`` again. Commits."""
    member = require_member(reference)
    try:
        reason = _clear_disabled(member.id)
        if reason is None:
            raise Conflict("This member account is not disabled.", "member")
        notified = ssf_member_events.account_enabled(
            member, ssf_member_events.standing_clients(member.id)
        )
        audit.record(
            "account.enabled",
            member_id=member.id,
            actor=actor,
            previous_reason=reason,
            partners_notified=notified,
        )
        db.session.commit()
    except (Conflict, SQLAlchemyError):
        db.session.rollback()
        raise
    db.session.refresh(member)
    return StatusChange(member, None, None, 0, 0, notified)


def _risc_reason(reason: str) -> str | None:
    return reason if reason in RISC_REASONS else None


def _set_disabled(member_id: str, now: datetime, reason: str) -> bool:
    """Set the marker only when unset: one statement decides, so two operators cannot both."""
    return bool(
        db.session.execute(
            update(Member)
            .where(Member.id == member_id, Member.disabled_at.is_(None))
            # Not a profile change: the ``updated_at`` claim stays.
            .values(disabled_at=now, disabled_reason=reason, updated_at=Member.updated_at)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _clear_disabled(member_id: str) -> str | None:
    """Clear the marker when set; returns the reason it was disabled for, or None."""
    reason = db.session.scalar(select(Member.disabled_reason).where(Member.id == member_id))
    cleared = db.session.execute(
        update(Member)
        .where(Member.id == member_id, Member.disabled_at.is_not(None))
        .values(disabled_at=None, disabled_reason=None, updated_at=Member.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    return (reason or "other") if cleared else None


def _revoke_all_tokens(member_id: str, now: datetime) -> int:
    """Every token of the member, at every client, consent or not."""
    return db.session.execute(
        update(Token)
        .where(Token.member_id == member_id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
