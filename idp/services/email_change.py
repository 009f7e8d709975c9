"""Changing a member's email address: it takes effect only once the new address answers.

The member asks for a new address; a single-use link goes to that address
(only the SHA-256 hash of its random token is stored) and works for
``email_change_seconds``. Until it is followed the old address stays in use,
for logging in and for every claim released to partners. Following it sets
the address with ``email_verified`` true (OIDC Core §5.1: the address was
shown to reach the member), records an audit event and tells the old
address by mail.

An address that belongs to another member gets the same answer as any other,
so the form tells nobody which addresses have an account; but its link is
never sent (the row's token is thrown away), and the owner of that address is
told by mail that someone asked to use it. Each new request replaces the
member's earlier ones, so only the newest link can work. A member whose
address is not verified (imported without ``--email-verified``) confirms it
the same way, with the current address as the new one.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.models import EmailChange, Member, hash_secret
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, mail
from idp.services.errors import Conflict, InvalidInput, NotFound
from idp.services.members import email_index, find_by_email, normalize_email
from idp.services.second_factor import mask_email

#: RFC 5321 §4.5.3.1.3: a path holds at most 256 octets, the address 254 of them.
MAX_EMAIL_LENGTH = 254
#: Requests one member may make per day: enough for typos, too few to send mail at will.
MAX_REQUESTS_PER_DAY = 5
#: Deliberately permissive (RFC 5322 allows far more); the link proves the address.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class TooManyRequests(Conflict):
    """The member asked for new addresses too often today."""


class LinkUsed(Conflict):
    """The link was followed already, or a later request replaced it."""


class LinkExpired(Conflict):
    """The link's time ran out."""


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["IDP"].email_change_seconds)


def pending_change(member: Member) -> EmailChange | None:
    """The member's newest request that can still be confirmed."""
    return db.session.scalar(
        select(EmailChange)
        .where(
            EmailChange.member_id == member.id,
            EmailChange.confirmed_at.is_(None),
            EmailChange.cancelled_at.is_(None),
            EmailChange.expires_at > utcnow(),
        )
        .order_by(EmailChange.created_at.desc(), EmailChange.id.desc())
        .limit(1)
    )


def _checked_email(member: Member, email) -> str:
    email = normalize_email(email if isinstance(email, str) else "")
    if not email:
        raise InvalidInput("Enter your new email address.", "new_email")
    if len(email) > MAX_EMAIL_LENGTH or not is_text(email) or not _EMAIL.match(email):
        raise InvalidInput("Enter a valid email address.", "new_email")
    # The member's own address only to confirm it (an imported member's may be unverified).
    if email == normalize_email(member.email) and member.email_verified:
        raise InvalidInput("This is your email address already.", "new_email")
    return email


def request_change(member: Member, new_email: str) -> EmailChange:
    """Send the confirmation link to ``new_email`` (or, when it is taken, a notice). Commits."""
    email = _checked_email(member, new_email)
    now = utcnow()
    asked_today = db.session.scalar(
        select(func.count(EmailChange.id)).where(
            EmailChange.member_id == member.id, EmailChange.created_at > now - timedelta(days=1)
        )
    )
    if asked_today >= MAX_REQUESTS_PER_DAY:
        raise TooManyRequests("You asked for a new email address too often today.", "new_email")
    _cancel_pending(member.id, now)
    token = secrets.token_urlsafe(32)
    change = EmailChange(
        member_id=member.id,
        token_hash=hash_secret(token),
        new_email=email,
        created_at=now,
        expires_at=now + _lifetime(),
    )
    db.session.add(change)
    db.session.flush()
    owner = find_by_email(email)
    if owner is None or owner.id == member.id:
        _mail_link(member, email, token)
    else:
        # No link that could work: the token is dropped here and never leaves the process.
        _mail_address_taken(owner, email)
    audit.record("member.email_change_requested", member_id=member.id, change_id=change.id)
    db.session.commit()
    return change


def cancel(member: Member) -> EmailChange:
    """The member takes back the pending change: its link stops working. Commits.

    Raises ``NotFound`` when no change is pending (none asked for, or done already).
    """
    change = pending_change(member)
    if change is None:
        raise NotFound("No change of your email address is waiting.", "email")
    _cancel_pending(member.id, utcnow())
    audit.record("member.email_change_cancelled", member_id=member.id, change_id=change.id)
    db.session.commit()
    return change


def _cancel_pending(member_id: str, now) -> None:
    db.session.execute(
        update(EmailChange)
        .where(
            EmailChange.member_id == member_id,
            EmailChange.confirmed_at.is_(None),
            EmailChange.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )


def _mail_link(member: Member, email: str, token: str) -> None:
    issuer = current_app.config["IDP"].issuer
    link = f"{issuer}/account/profile/email/confirm?{urlencode({'token': token})}"
    hours = max(1, current_app.config["IDP"].email_change_seconds // 3600)
    with force_locale(member.locale or "en"):
        subject = _("Confirm your new email address for Miles & More")
        body = render_template("mail/email_change.txt", member=member, link=link, hours=hours)
    mail.queue_mail(email, subject, body, purpose="email_change")


def _mail_address_taken(owner: Member, email: str) -> None:
    with force_locale(owner.locale or "en"):
        subject = _("Someone asked to use your email address at Miles & More")
        body = render_template("mail/email_change_taken.txt", member=owner)
    mail.queue_mail(email, subject, body, purpose="email_change_taken")


def _find(token) -> EmailChange | None:
    if not isinstance(token, str) or not 0 < len(token) <= 128 or not is_text(token):
        return None
    return db.session.scalar(
        select(EmailChange).where(EmailChange.token_hash == hash_secret(token))
    )


def open_change(token) -> EmailChange:
    """The request of this link while it can be confirmed; NotFound, LinkUsed or LinkExpired."""
    change = _find(token)
    if change is None:
        raise NotFound("This link is not valid.", "token")
    if change.confirmed_at is not None or change.cancelled_at is not None:
        raise LinkUsed("This link has been used already or was replaced by a newer one.", "token")
    if change.expires_at <= utcnow():
        raise LinkExpired("This link has expired. Ask for a new one on your profile.", "token")
    return change


def confirm(token) -> Member:
    """Make the new address the member's, verified. Commits; the link works once."""
    change = open_change(token)
    member = db.session.get(Member, change.member_id)
    email = normalize_email(change.new_email)
    owner = find_by_email(email)
    if owner is not None and owner.id != member.id:
        raise Conflict("This email address now belongs to another account.", "token")
    now = utcnow()
    # Used once: checked and marked in one statement, so two clicks cannot both pass.
    used = db.session.execute(
        update(EmailChange)
        .where(
            EmailChange.id == change.id,
            EmailChange.confirmed_at.is_(None),
            EmailChange.cancelled_at.is_(None),
            EmailChange.expires_at > now,
        )
        .values(confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise LinkUsed("This link has been used already or was replaced by a newer one.", "token")
    old_email = member.email
    changed = normalize_email(old_email) != email
    if changed:
        member.email = email
        member.email_index = email_index(email)
        _mail_changed(member, old_email, email)
    member.email_verified = True
    event = "member.email_changed" if changed else "member.email_verified"
    audit.record(event, member_id=member.id, change_id=change.id)
    try:
        db.session.commit()
    except IntegrityError as exc:  # another member took the address a moment ago
        db.session.rollback()
        raise Conflict("This email address now belongs to another account.", "token") from exc
    return member


def _mail_changed(member: Member, old_email: str, new_email: str) -> None:
    with force_locale(member.locale or "en"):
        subject = _("Your Miles & More email address was changed")
        body = render_template(
            "mail/email_changed.txt", member=member, new_email=mask_email(new_email)
        )
    mail.queue_mail(old_email, subject, body, purpose="email_changed")
