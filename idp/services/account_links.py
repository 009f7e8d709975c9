"""Single-use links mailed to a member: a password reset, or setting up the second factor.

A link carries 256 random bits; only their SHA-256 hash is stored
(``account_links``). A link works for one purpose, until it expires, and once:
it is checked and marked used in one UPDATE, so two requests racing with the
same link cannot both pass (RFC 6819 §5.1.5.4 on one-time credentials; OWASP's
forgotten-password guidance for the rest).

Setting up the second factor needs such a link (SPEC §4): whoever knows only
the password cannot enrol an authenticator app. The browser that followed an
enrolment link is noted in its session (``FOLLOWED_KEY``) for the member and
for the pending-login lifetime; ``/login/enrol`` shows the key only then.

Functions that create or use a link commit; nothing here logs a token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, render_template, session
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import AccountLink, Member
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, mail
from idp.services.errors import Conflict, NotFound
from idp.services.second_factor import ResendTooSoon

PASSWORD_RESET = "password_reset"
ENROLMENT = "enrolment"
PURPOSES = (PASSWORD_RESET, ENROLMENT)
#: The browser that followed an enrolment link: ``{"member_id", "at"}`` in its session.
FOLLOWED_KEY = "enrolment_link"
MAX_TOKEN_LENGTH = 128


class LinkNotValid(NotFound):
    """No link of this purpose has this token."""

    code = "link_not_valid"


class LinkGone(Conflict):
    """The link was used already, or it expired."""

    code = "link_gone"


class LinkUsed(LinkGone):
    code = "link_used"


class LinkExpired(LinkGone):
    code = "link_expired"


def _settings():
    return current_app.config["IDP"]


def hash_token(token: str) -> str:
    """256 random bits need no slow hash: one SHA-256 round cannot be brute-forced."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def lifetime(purpose: str) -> timedelta:
    settings = _settings()
    seconds = (
        settings.password_reset_seconds
        if purpose == PASSWORD_RESET
        else settings.enrolment_link_seconds
    )
    return timedelta(seconds=seconds)


def minutes(purpose: str) -> int:
    return max(1, int(lifetime(purpose).total_seconds()) // 60)


def link_url(purpose: str, token: str) -> str:
    path = "/login/reset/" if purpose == PASSWORD_RESET else "/login/enrol/link/"
    return f"{_settings().issuer}{path}{token}"


def seconds_until_resend(member_id: str, purpose: str) -> int:
    """0 when a new link may be sent; else how long the member has to wait."""
    latest = db.session.scalar(
        select(func.max(AccountLink.created_at)).where(
            AccountLink.member_id == member_id, AccountLink.purpose == purpose
        )
    )
    if latest is None:
        return 0
    wait = timedelta(seconds=_settings().email_code_resend_seconds) - (utcnow() - latest)
    return int(wait.total_seconds()) + 1 if wait > timedelta(0) else 0


def add_link(member: Member, purpose: str, token_hash: str) -> AccountLink:
    """A new link of ``purpose``; earlier open links of that purpose stop working. No commit."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    now = utcnow()
    retire(member.id, purpose)
    link = AccountLink(
        token_hash=token_hash,
        member_id=member.id,
        purpose=purpose,
        created_at=now,
        expires_at=now + lifetime(purpose),
    )
    db.session.add(link)
    db.session.flush()
    return link


def retire(member_id: str, purpose: str) -> None:
    """Every open link of ``purpose`` of the member stops working (no commit)."""
    db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.member_id == member_id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def open_link(token: str, purpose: str) -> AccountLink:
    """The link of this token while it is unused and unexpired; ``LinkNotValid`` / ``LinkGone``."""
    link = None
    if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH and is_text(token):
        link = db.session.scalar(
            select(AccountLink).where(
                AccountLink.token_hash == hash_token(token), AccountLink.purpose == purpose
            )
        )
    if link is None:
        raise LinkNotValid("This link is not valid.", "token")
    if link.used_at is not None:
        raise LinkUsed("This link has been used already.", "token")
    if link.expires_at <= utcnow():
        raise LinkExpired("This link has expired.", "token")
    return link


def claim(link: AccountLink) -> None:
    """Mark the link used, in one statement: ``LinkGone`` when another request was first.

    Does not commit: the caller commits the claim with what the link allowed.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.id == link.id,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise LinkUsed("This link has been used already.", "token")


def mail_locale(member: Member | None) -> str:
    if member is not None and member.locale:
        return member.locale
    return str(get_locale() or "en")


# -- setting up the second factor ----------------------------------------------------


def send_enrolment_link(member: Member, asked_again: bool = False) -> bool:
    """Mail a link to set up the second factor. Commits; True when a mail was queued.

    A link sent moments ago is not sent again: after a password step silently
    (the page says to check the mail), when asked again with ``ResendTooSoon``.
    """
    wait = seconds_until_resend(member.id, ENROLMENT)
    if wait:
        if asked_again:
            raise ResendTooSoon(wait)
        return False
    token, token_hash = new_token()
    link = add_link(member, ENROLMENT, token_hash)
    count = minutes(ENROLMENT)
    with force_locale(mail_locale(member)):
        subject = _("Set up two-step verification for Miles & More")
        body = render_template(
            "mail/enrolment_link.txt",
            member=member,
            link=link_url(ENROLMENT, token),
            validity=ngettext(
                "The link works once, for %(num)d minute.",
                "The link works once, for %(num)d minutes.",
                count,
            ),
        )
    mail.queue_mail(member.email, subject, body, purpose="enrolment_link")
    audit.record("enrolment_link.sent", member_id=member.id, link_id=link.id)
    db.session.commit()
    return True


def follow_enrolment_link(link: AccountLink) -> None:
    """The enrolment link is used up and this browser may enrol the member. Commits."""
    claim(link)
    audit.record("enrolment_link.followed", member_id=link.member_id, link_id=link.id)
    db.session.commit()
    session[FOLLOWED_KEY] = {"member_id": link.member_id, "at": utcnow().timestamp()}


def enrolment_allowed(member_id: str) -> bool:
    """True in the browser that followed the member's enrolment link, for a while."""
    data = session.get(FOLLOWED_KEY)
    if not isinstance(data, dict) or data.get("member_id") != member_id:
        return False
    age = utcnow().timestamp() - float(data.get("at") or 0)
    return 0 <= age <= _settings().pending_login_seconds


def allow_enrolment(member_id: str) -> None:
    """A password reset by emailed link proved the address too: this browser may enrol."""
    session[FOLLOWED_KEY] = {"member_id": member_id, "at": utcnow().timestamp()}


def forget_followed() -> None:
    session.pop(FOLLOWED_KEY, None)
