"""What a logged-in member changes on the security page: password, authenticator app, codes.

Each change is audited and, where it could be an intruder's doing, the member
is told by mail (``mail/security_notice.txt``), so a change the member did not
make does not go unnoticed.

Changing the password needs the current one; a wrong one counts against the
account's lockout like a wrong password at login (``idp.services.lockout``:
counted before it is checked, given back when right). A new password ends every
other session of the member (whoever knew the old password is logged out) and
keeps the one it was changed in.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from idp import defaults
from idp.extensions import db
from idp.models import Credential, Member
from idp.models.types import utcnow
from idp.services import audit, lockout, mail, second_factor, sso
from idp.services.authentication import LockedOut, LoginRefused
from idp.services.errors import InvalidInput
from idp.services.passwords import check_new_password, hash_password, verify_password


class SamePassword(InvalidInput):
    """The new password is the current one."""

    def __init__(self):
        super().__init__("The new password is the same as the current one.", field="new_password")


def change_password(member: Member, current: str, new: str, keep_sid: str | None) -> int:
    """Set ``new`` when ``current`` is right; returns how many other sessions ended. Commits.

    Raises ``InvalidInput`` (policy, nothing counted), ``LockedOut`` or ``LoginRefused``.
    """
    check_new_password(new)
    credential = db.session.get(Credential, member.id)
    attempt = lockout.take_attempt(lockout.member_key(member.id))
    if attempt.refused_until is not None:
        audit.record("login.refused_locked", member_id=member.id, step="password_change")
    db.session.commit()
    if attempt.refused_until is not None:
        raise LockedOut(attempt.refused_until)
    # No transaction is open during argon2's ~100 ms.
    if not verify_password(credential.password_hash, current):
        audit.record("password.change_failed", member_id=member.id, reason="wrong_password")
        if attempt.locks_until is not None:
            audit.record("login.locked", member_id=member.id, until=attempt.locks_until.isoformat())
        db.session.commit()
        if attempt.locks_until is not None:
            raise LockedOut(attempt.locks_until)
        raise LoginRefused("The current password is not right.")
    lockout.give_back(attempt)
    if verify_password(credential.password_hash, new):
        db.session.commit()
        raise SamePassword()
    credential.password_hash = hash_password(new)
    credential.password_changed_at = utcnow()
    audit.record("password.changed", member_id=member.id)
    _notify(member, "password")
    # Commits the whole change with the ended sessions and their back-channel logouts.
    return sso.end_member_sessions(member.id, reason="password_changed", except_sid=keep_sid)


def replacement_key(member: Member) -> str:
    """The new authenticator key to show (the same one until confirmed). Commits."""
    key = second_factor.replacement_key(member)
    db.session.commit()
    return key


def replace_authenticator(member: Member, code: str) -> None:
    """Confirm the new key with one of its codes; the old key stops working. Commits.

    A wrong code is not a guess at a secret (the key was just shown to this
    member's session), so it is audited without counting towards the lockout,
    and the old key stays.
    """
    if not second_factor.replace_totp(member, code):
        audit.record("totp.replacement_failed", member_id=member.id)
        db.session.commit()
        raise LoginRefused("The code is not right.")
    audit.record("totp.replaced", member_id=member.id)
    _notify(member, "authenticator")
    db.session.commit()


def confirm_recovery_codes(member: Member, codes: list[str]) -> list[str]:
    """The codes as the member was shown them, when each is an unused code of theirs.

    Lets the page offer the codes just shown as a file without keeping any copy:
    the browser sends them back and they are checked against their hashes.
    Raises ``InvalidInput`` when any is not.
    """
    cleaned = [c for c in (code.strip() for code in codes) if c]
    if not cleaned or len(cleaned) != len(set(cleaned)):
        raise InvalidInput("These are not your recovery codes.")
    if len(cleaned) > defaults.RECOVERY_CODE_COUNT:
        raise InvalidInput("These are not your recovery codes.")
    if not all(second_factor.is_unused_recovery_code(member, code) for code in cleaned):
        raise InvalidInput("These are not your recovery codes.")
    return [
        second_factor.format_recovery_code(second_factor.normalise_recovery_code(c))
        for c in cleaned
    ]


def _notify(member: Member, change: str) -> None:
    """Queue the mail telling the member what changed (in the caller's transaction)."""
    with force_locale(member.locale or str(get_locale() or "en")):
        subject = {
            "password": _("Your Miles & More password was changed"),
            "authenticator": _("Your Miles & More authenticator app was replaced"),
        }[change]
        body = render_template("mail/security_notice.txt", member=member, change=change)
    mail.queue_mail(member.email, subject, body, purpose=f"security_notice.{change}")
