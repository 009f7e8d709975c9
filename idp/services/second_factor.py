"""Second factors: TOTP (RFC 6238), recovery codes, and email one-time codes.

Every one-time thing is checked and marked used in one UPDATE, so two requests
racing with the same code cannot both succeed:

- TOTP: the accepted time step is written to ``totp_last_step`` only when it is
  later than the last one accepted (RFC 6238 §5.2: a verifier must not accept
  the same OTP twice).
- Recovery codes and email codes: ``used_at`` is set only where it is NULL.

Functions here add to the database session and never commit; the
authentication service and the account pages' services commit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

import pyotp
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from idp import defaults
from idp.extensions import db, keyring
from idp.models import Credential, EmailCode, Member, RecoveryCode
from idp.models.types import utcnow
from idp.services import mail
from idp.services.errors import InvalidInput

#: Recovery codes use the RFC 4648 base32 alphabet: no 0 or 1 to mistake for O or I.
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ISSUER_NAME = "Miles & More"

_DIGITS = re.compile(r"^[0-9]+$")


class ResendTooSoon(InvalidInput):
    """An email code was sent moments ago; the member has to wait before another."""

    def __init__(self, seconds: int):
        super().__init__("An email code was sent a moment ago.", field="code")
        self.seconds = seconds


def _settings():
    return current_app.config["IDP"]


def _credential(member: Member) -> Credential:
    credential = db.session.get(Credential, member.id)
    if credential is None:  # every member gets one at enrolment
        raise LookupError(f"member {member.id} has no credential")
    return credential


def _clean_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


# -- TOTP ------------------------------------------------------------------------


def current_step() -> int:
    return int(utcnow().timestamp()) // defaults.TOTP_STEP_SECONDS


def _matching_step(secret: str, code: str) -> int | None:
    """The step within the window whose code is ``code``; every candidate is compared."""
    code = _clean_code(code)
    if len(code) != defaults.TOTP_DIGITS or not _DIGITS.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=defaults.TOTP_DIGITS, interval=defaults.TOTP_STEP_SECONDS)
    now = current_step()
    matched = None
    for step in range(now - defaults.TOTP_WINDOW, now + defaults.TOTP_WINDOW + 1):
        expected = totp.at(step * defaults.TOTP_STEP_SECONDS)
        if hmac.compare_digest(expected.encode(), code.encode()) and matched is None:
            matched = step
    return matched


def _claim_step(member_id: str, step: int) -> bool:
    """Mark ``step`` used; False when it (or a later step) was used already."""
    result = db.session.execute(
        update(Credential)
        .where(
            Credential.member_id == member_id,
            or_(Credential.totp_last_step.is_(None), Credential.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return result.rowcount == 1


def has_totp(member: Member) -> bool:
    """True once the member confirmed an authenticator app."""
    return _credential(member).has_totp


def verify_totp(member: Member, code: str) -> bool:
    """True once per time step for the right code of an enrolled member."""
    credential = _credential(member)
    if not credential.has_totp:
        return False
    step = _matching_step(credential.totp_secret, code)
    if step is None:
        return False
    claimed = _claim_step(member.id, step)
    db.session.expire(credential, ["totp_last_step"])
    return claimed


def pending_totp_key(member: Member) -> str:
    """The key being enrolled: made once and kept (encrypted) until confirmed.

    Reloading the enrolment page shows the same key, so a member who scanned it
    already is not confused by a new QR code.
    """
    credential = _credential(member)
    if credential.has_totp:
        raise InvalidInput("Two-step verification is set up already.")
    if credential.totp_secret is None:
        credential.totp_secret = pyotp.random_base32()  # 160 bits, RFC 4226 §4 (R6)
    return credential.totp_secret


def provisioning_uri(member: Member, key: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(key).provisioning_uri(name=member.email, issuer_name=ISSUER_NAME)


def confirm_totp(member: Member, code: str) -> bool:
    """Finish enrolment when ``code`` matches the pending key; the step counts as used."""
    credential = _credential(member)
    if credential.has_totp or credential.totp_secret is None:
        return False
    step = _matching_step(credential.totp_secret, code)
    if step is None or not _claim_step(member.id, step):
        return False
    credential.totp_enrolled_at = utcnow()
    return True


def group_key(key: str) -> str:
    """``ABCD EFGH ...``: easier to type into an app than one long string."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


# -- recovery codes ----------------------------------------------------------------


def _recovery_hash(member_id: str, code: str) -> str:
    # 80 random bits per code: a plain SHA-256 cannot be brute-forced; the member id
    # makes equal codes of two members (never expected) hash apart.
    return hashlib.sha256(f"{member_id}:{code}".encode()).hexdigest()


def _normalise_recovery_code(code: str) -> str | None:
    cleaned = _clean_code(code).upper()
    if len(cleaned) != defaults.RECOVERY_CODE_LENGTH or any(c not in BASE32 for c in cleaned):
        return None
    return cleaned


def format_recovery_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def new_recovery_codes(member: Member) -> list[str]:
    """Ten fresh codes, shown once, grouped for reading; every earlier code stops working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    codes = [
        "".join(secrets.choice(BASE32) for _char in range(defaults.RECOVERY_CODE_LENGTH))
        for _code in range(defaults.RECOVERY_CODE_COUNT)
    ]
    now = utcnow()
    for code in codes:
        db.session.add(
            RecoveryCode(
                member_id=member.id, code_hash=_recovery_hash(member.id, code), created_at=now
            )
        )
    return [format_recovery_code(code) for code in codes]


def normalise_recovery_code(code: str) -> str | None:
    """The code without dashes and spaces, upper case; None when it cannot be one."""
    return _normalise_recovery_code(code)


def is_unused_recovery_code(member: Member, code: str) -> bool:
    """True for one of the member's codes not used yet; marks nothing."""
    normalised = _normalise_recovery_code(code)
    if normalised is None:
        return False
    return bool(
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.member_id == member.id,
                RecoveryCode.code_hash == _recovery_hash(member.id, normalised),
                RecoveryCode.used_at.is_(None),
            )
        )
    )


def use_recovery_code(member: Member, code: str) -> bool:
    normalised = _normalise_recovery_code(code)
    if normalised is None:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.member_id == member.id,
            RecoveryCode.code_hash == _recovery_hash(member.id, normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


def remaining_recovery_codes(member: Member) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
        )
    )


# -- email codes -------------------------------------------------------------------


def _email_code_hashes(member_id: str, code: str) -> list[str]:
    # Six digits are a small space: a keyed hash (the blind-index key) keeps a copied
    # table from giving the codes away. Every configured key is tried during rotation.
    return keyring.blind_indexes(f"email-code:{member_id}:{code}")


def send_email_code(member: Member) -> None:
    """Queue a fresh code by mail; any earlier code stops working (one live code at most)."""
    now = utcnow()
    settings = _settings()
    latest = db.session.scalar(
        select(func.max(EmailCode.created_at)).where(EmailCode.member_id == member.id)
    )
    if latest is not None:
        wait = timedelta(seconds=settings.email_code_resend_seconds) - (now - latest)
        if wait > timedelta(0):
            raise ResendTooSoon(int(wait.total_seconds()) + 1)
    db.session.execute(
        update(EmailCode)
        .where(EmailCode.member_id == member.id, EmailCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**defaults.EMAIL_CODE_DIGITS):0{defaults.EMAIL_CODE_DIGITS}d}"
    db.session.add(
        EmailCode(
            member_id=member.id,
            code_hash=_email_code_hashes(member.id, code)[0],
            created_at=now,
            expires_at=now + timedelta(seconds=settings.email_code_seconds),
        )
    )
    minutes = max(1, settings.email_code_seconds // 60)
    with force_locale(member.locale or _current_locale()):
        subject = _("Your Miles & More login code")
        body = render_template("mail/email_code.txt", member=member, code=code, minutes=minutes)
    mail.queue_mail(member.email, subject, body, purpose="email_code")


def _current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


def verify_email_code(member: Member, code: str) -> bool:
    cleaned = _clean_code(code)
    if len(cleaned) != defaults.EMAIL_CODE_DIGITS or not _DIGITS.match(cleaned):
        return False
    now = utcnow()
    result = db.session.execute(
        update(EmailCode)
        .where(
            EmailCode.member_id == member.id,
            EmailCode.code_hash.in_(_email_code_hashes(member.id, cleaned)),
            EmailCode.used_at.is_(None),
            EmailCode.expires_at > now,
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


def mask_email(address: str) -> str:
    """``a•••@example.com``: enough for members to recognise, little for onlookers."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


# -- replacing the authenticator app -------------------------------------------------


def replacement_key(member: Member) -> str:
    """A new key for an enrolled member, kept (encrypted) beside the old one until confirmed."""
    credential = _credential(member)
    if not credential.has_totp:
        raise InvalidInput("Two-step verification is not set up yet.")
    if credential.totp_pending_secret is None:
        credential.totp_pending_secret = pyotp.random_base32()
    return credential.totp_pending_secret


def replace_totp(member: Member, code: str) -> bool:
    """Swap in the pending key when ``code`` is one of its codes; else the old key stays.

    The swap is one UPDATE that also clears the pending key, so two confirmations
    racing with the same code replace the key once. The accepted step is recorded
    for the new key (RFC 6238 §5.2).
    """
    credential = _credential(member)
    pending = credential.totp_pending_secret
    if not credential.has_totp or pending is None:
        return False
    step = _matching_step(pending, code)
    if step is None:
        return False
    result = db.session.execute(
        update(Credential)
        .where(Credential.member_id == member.id, Credential.totp_pending_secret.is_not(None))
        .values(
            totp_secret=pending,
            totp_pending_secret=None,
            totp_enrolled_at=utcnow(),
            totp_last_step=step,
        )
    )
    db.session.expire(credential)
    return result.rowcount == 1
