"""The forgotten password: a link by email, then the new password and the second factor.

Rules carried here (OWASP Forgot Password Cheat Sheet; SPEC §4):

- Asking for a link gives the same answer whether or not the login name
  belongs to an account, and does the same work: a token is made and hashed,
  the mail rendered, an audit event written and committed. Only a known
  member's link and mail are stored.
- The link (``idp.services.account_links``) works once, for
  ``password_reset_seconds``; a newer link retires the older ones.
- The new password must meet the password rules, and it is set only after the
  member's second factor (a TOTP code or a recovery code, with the login's
  lockout and used-step rules) has passed. A member without a second factor
  sets the password and then has to enrol one.
- A reset ends every SSO session of the member (partners are told by
  back-channel logout), is audited, and the member gets a notice by mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from idp.extensions import db
from idp.models import AccountLink, Credential, Member
from idp.models.types import utcnow
from idp.services import account_links, audit, authentication, mail, second_factor, sso
from idp.services.account_links import PASSWORD_RESET
from idp.services.members import find_by_login, get_member
from idp.services.passwords import check_new_password, hash_password

#: The second factors that may confirm a reset: not the email code, which comes
#: by the same channel as the link itself.
RESET_FACTORS = ("totp", "recovery_code")


def request_reset(login: str) -> None:
    """Mail a reset link when ``login`` names a member; the same work either way. Commits."""
    name = authentication.normalise_login(login)
    member = find_by_login(name) if name else None
    token, token_hash = account_links.new_token()
    count = account_links.minutes(PASSWORD_RESET)
    with force_locale(account_links.mail_locale(member)):
        subject = _("Reset your Miles & More password")
        body = render_template(
            "mail/password_reset.txt",
            name=member.given_name if member else "",
            link=account_links.link_url(PASSWORD_RESET, token),
            validity=ngettext(
                "The link works once, for %(num)d minute.",
                "The link works once, for %(num)d minutes.",
                count,
            ),
        )
    # Asked for an unknown member too, so both answers cost the same queries.
    wait = account_links.seconds_until_resend(member.id if member else "", PASSWORD_RESET)
    if member is None:
        audit.record("password_reset.requested", known=False)
    elif wait:
        # A link went out moments ago: no second mail, and no different answer.
        audit.record("password_reset.requested", member_id=member.id, throttled=True)
    else:
        link = account_links.add_link(member, PASSWORD_RESET, token_hash)
        mail.queue_mail(member.email, subject, body, purpose="password_reset")
        audit.record("password_reset.requested", member_id=member.id, link_id=link.id)
    db.session.commit()


@dataclass
class ResetLink:
    link: AccountLink
    member: Member
    has_second_factor: bool


def open_reset_link(token: str) -> ResetLink:
    """The open reset link of ``token`` with its member; ``LinkNotValid`` / ``LinkGone``."""
    link = account_links.open_link(token, PASSWORD_RESET)
    member = get_member(link.member_id)
    if member is None:  # the link goes with the member (ON DELETE CASCADE)
        raise account_links.LinkNotValid("This link is not valid.", "token")
    return ResetLink(link, member, second_factor.has_totp(member))


def reset_password(
    token: str, new_password: str, factor: str | None = None, code: str = ""
) -> Member:
    """Set the new password through the link. Commits once, everything or nothing.

    Raises ``LinkNotValid`` / ``LinkGone`` (the link), ``InvalidInput`` (the
    password rules), ``LoginRefused`` / ``LockedOut`` (the second factor),
    ``AccountDisabled`` (an operator disabled the account). Checked in that order; the password is set only after all of them passed.
    """
    found = open_reset_link(token)
    member = found.member
    check_new_password(new_password)
    if found.has_second_factor:
        if factor not in RESET_FACTORS:
            raise ValueError(f"a reset needs a second factor of {RESET_FACTORS}")
        method = authentication.check_second_factor(member, factor, code)
        audit.record("password_reset.second_factor_passed", member_id=member.id, method=method)
    # The link (and the second factor) proved the member: now the account's state may be told.
    authentication.refuse_disabled(member, step="password_reset")
    # argon2 before the claim, so no transaction waits for the hash.
    password_hash = hash_password(new_password)
    account_links.claim(found.link)
    credential = db.session.get(Credential, member.id)
    credential.password_hash = password_hash
    credential.password_changed_at = utcnow()
    account_links.retire(member.id, PASSWORD_RESET)
    audit.record("password.reset", member_id=member.id, link_id=found.link.id)
    _queue_notice(member)
    # Ends the sessions and commits it all in one transaction.
    sso.end_member_sessions(member.id, reason="password_reset")
    return member


def _queue_notice(member: Member) -> None:
    with force_locale(account_links.mail_locale(member)):
        subject = _("Your Miles & More password was changed")
        body = render_template("mail/password_changed.txt", member=member)
    mail.queue_mail(member.email, subject, body, purpose="password_changed")
