"""The member login: the password step, the second-factor step, and the finished login.

Rules carried here:

- An unknown login name gets the same answer as a wrong password, spends the
  same argon2 time (``passwords.verify_password`` burns a dummy hash) and
  locks out the same way (see ``idp.services.lockout``).
- Wrong passwords and wrong codes count against the account together; every
  attempt is counted before its password or code is checked, so parallel
  attempts check at most the allowed number, and a locked account is refused
  before anything is checked (see ``idp.services.lockout``).
- Every failure is an audit event; no audit event carries a password, a code
  or a login name.
- An account an operator disabled (``member_status``) is refused with
  ``AccountDisabled`` only after the password was right (so a login name alone
  tells nobody the account's state), and again when the login would finish
  (a passkey, a code, an enrolment), for a login under way when it was disabled.

Authentication Method Reference values (RFC 8176 §2) recorded in the session:
``pwd`` for the password; ``otp`` for a TOTP code, and also for a recovery code
and an email code, because each is a one-time password and RFC 8176 registers
nothing closer (``mail`` is not a registered value, and relying parties would
not know it); ``hwk`` or ``swk`` for a passkey (``idp.services.passkeys`` says
which). ``mfa`` is added because two factors were used. The audit event
``login.second_factor_passed`` records which kind of code it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from idp.extensions import db
from idp.models import Credential, Member, SSOSession
from idp.services import audit, language, lockout, passkeys, second_factor, sso
from idp.services.cards import normalize_card_number
from idp.services.errors import ServiceError
from idp.services.members import find_by_login, normalize_email
from idp.services.passwords import hash_password, needs_rehash, verify_password

SecondFactor = Literal["totp", "recovery_code", "email_code"]
SECOND_FACTORS: tuple[SecondFactor, ...] = ("totp", "recovery_code", "email_code")
#: RFC 8176 values per second factor (see the module docstring).
AMR_OF_FACTOR: dict[str, str] = {"totp": "otp", "recovery_code": "otp", "email_code": "otp"}


class LoginRefused(ServiceError):
    """Wrong login name or password, or a wrong code: deliberately no more precise."""

    code = "login_refused"


class AccountDisabled(ServiceError):
    """An operator disabled the account (``member_status``): said only once the password
    (or the mailed link and the second factor) proved the member, so no one learns it
    from a login name alone."""

    code = "account_disabled"

    def __init__(self, member_id: str):
        super().__init__("The account is disabled.")
        self.member_id = member_id


class LockedOut(ServiceError):
    """Too many failures: the account (or login name) is locked until ``until``."""

    code = "locked_out"

    def __init__(self, until: datetime):
        super().__init__("Too many failed attempts.")
        self.until = until


def normalise_login(login: str) -> str:
    login = (login or "").strip()
    if "@" in login:
        return normalize_email(login)
    return normalize_card_number(login)


def check_password(login: str, password: str) -> Member:
    """The first factor. Returns the member, or raises ``LoginRefused`` / ``LockedOut``.

    The attempt is counted (and committed) before the hash is checked, and given
    back when the password is right; a right password alone changes nothing else
    (the lockout record is cleared only when the whole login succeeds).
    """
    name = normalise_login(login)
    member = find_by_login(name) if name else None
    key = lockout.member_key(member.id) if member else lockout.login_name_key(name)
    member_id = member.id if member else None
    credential = db.session.get(Credential, member.id) if member else None
    password_hash = credential.password_hash if credential else None

    attempt = _take_attempt(key, member_id, step="password")
    # No transaction is open from here to the end of argon2's ~100 ms.
    if not verify_password(password_hash, password):
        _failed(
            attempt,
            "login.password_failed",
            member_id=member_id,
            reason="wrong_password" if member else "unknown_login",
        )
    lockout.give_back(attempt)
    if needs_rehash(password_hash):
        credential.password_hash = hash_password(password)
        audit.record("login.password_rehashed", member_id=member_id)
    _commit()
    refuse_disabled(member, step="password")
    return member


def refuse_disabled(member: Member, step: str) -> None:
    """Raise ``AccountDisabled`` (audited, committed) when an operator disabled the account.

    Called only after the member has proved who they are at ``step``.
    """
    db.session.refresh(member, ["disabled_at"])
    if not member.is_disabled:
        return
    audit.record("login.refused_disabled", member_id=member.id, step=step)
    _commit()
    raise AccountDisabled(member.id)


def check_second_factor(member: Member, factor: SecondFactor, code: str) -> str:
    """The second factor; returns its RFC 8176 value. Raises ``LoginRefused`` / ``LockedOut``.

    Commits: the counted attempt before the code is checked, then the code's used
    marker on success or the failure on failure.
    """
    if factor not in SECOND_FACTORS:
        raise ValueError(f"unknown second factor {factor!r}")
    member_id = member.id
    attempt = _take_attempt(lockout.member_key(member_id), member_id, step=factor)
    verify = {
        "totp": second_factor.verify_totp,
        "recovery_code": second_factor.use_recovery_code,
        "email_code": second_factor.verify_email_code,
    }[factor]
    if not verify(member, code):
        _failed(attempt, "login.second_factor_failed", member_id=member_id, method=factor)
    lockout.give_back(attempt)
    audit.record("login.second_factor_passed", member_id=member_id, method=factor)
    if factor == "recovery_code":
        audit.record(
            "recovery_code.used",
            member_id=member_id,
            remaining=second_factor.remaining_recovery_codes(member),
        )
    _commit()
    return AMR_OF_FACTOR[factor]


def _take_attempt(key: str, member_id: str | None, step: str) -> lockout.Attempt:
    """Count the attempt and commit it, or refuse it unchecked when the key is locked."""
    attempt = lockout.take_attempt(key)
    if attempt.refused_until is not None:
        audit.record("login.refused_locked", member_id=member_id, step=step)
    _commit()
    if attempt.refused_until is not None:
        raise LockedOut(attempt.refused_until)
    return attempt


def _failed(attempt: lockout.Attempt, event: str, member_id: str | None, **details) -> None:
    """Audit a failure (counted already), commit, and raise what the member is told."""
    audit.record(event, member_id=member_id, **details)
    if attempt.locks_until is not None:
        audit.record("login.locked", member_id=member_id, until=attempt.locks_until.isoformat())
    _commit()
    if attempt.locks_until is not None:
        raise LockedOut(attempt.locks_until)
    raise LoginRefused("The login details are not right.")


def _commit() -> None:
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        raise


def finish_login(member: Member, amr: list[str]) -> SSOSession:
    """Both factors passed: clear the failure record and start the SSO session (commits).

    An account disabled while the login was under way is refused (``AccountDisabled``).

    A language chosen on this browser before logging in becomes the member's preference.
    """
    refuse_disabled(member, step="finish")
    lockout.clear(lockout.member_key(member.id))
    language.adopt_browser_choice(member)
    return sso.start_session(member, amr)


# -- TOTP enrolment at login ---------------------------------------------------------


def enrolment_key(member: Member) -> str:
    """The key a member without a second factor enrols (kept until confirmed); commits."""
    key = second_factor.pending_totp_key(member)
    db.session.commit()
    return key


def confirm_enrolment(member: Member, code: str) -> list[str]:
    """Confirm the pending TOTP key with a code; returns ten new recovery codes. Commits.

    A wrong code here is not a guess at a secret (the key was just shown to this
    browser), so it is audited but does not count towards the lockout; the
    per-address rate limit still applies.
    """
    if not second_factor.confirm_totp(member, code):
        audit.record("totp.enrolment_failed", member_id=member.id)
        db.session.commit()
        raise LoginRefused("The code is not right.")
    codes = second_factor.new_recovery_codes(member)
    audit.record("totp.enrolled", member_id=member.id)
    audit.record("recovery_codes.generated", member_id=member.id, count=len(codes))
    db.session.commit()
    return codes


def send_email_code(member: Member) -> None:
    """Queue an email code for the pending login (commits); may raise ``ResendTooSoon``."""
    second_factor.send_email_code(member)
    audit.record("email_code.sent", member_id=member.id)
    db.session.commit()


def regenerate_recovery_codes(member: Member) -> list[str]:
    """Ten new recovery codes for a logged-in member; the old ones stop working. Commits."""
    codes = second_factor.new_recovery_codes(member)
    audit.record("recovery_codes.generated", member_id=member.id, count=len(codes))
    db.session.commit()
    return codes


def record_rate_limited(endpoint: str) -> None:
    """The per-address limit refused a login request: evidence for the audit log. Commits."""
    audit.record("login.rate_limited", endpoint=endpoint)
    db.session.commit()


# -- a passkey as the second factor ----------------------------------------------------


def check_passkey(member: Member, credential: dict) -> str:
    """A passkey assertion as the second factor; returns ``hwk`` or ``swk`` (RFC 8176 §2).

    Counted against the lockout like a code: the attempt is committed before the
    assertion is checked; a wrong, replayed or unknown assertion is a failure.
    Raises ``LoginRefused`` / ``LockedOut``.
    """
    member_id = member.id
    attempt = _take_attempt(lockout.member_key(member_id), member_id, step="passkey")
    try:
        method = passkeys.verify_assertion(member, credential)
    except passkeys.PasskeyRefused as exc:
        _failed(
            attempt,
            "login.second_factor_failed",
            member_id=member_id,
            method="passkey",
            reason=exc.reason,
        )
    lockout.give_back(attempt)
    audit.record("login.second_factor_passed", member_id=member_id, method="passkey", amr=method)
    _commit()
    return method
