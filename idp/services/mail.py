"""Outgoing mail: queued in the outbox in the caller's transaction, sent by a separate drain.

Queuing inside the transaction that creates, say, an email code means a mail
exists exactly when its code does. ``send_pending`` (``mam-idp mail send``)
delivers over SMTP and retries with growing pauses; without an SMTP URL the
mail stays in the outbox (the demo and the tests read it there).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from idp.extensions import db
from idp.models import OutgoingMail
from idp.models.types import utcnow
from idp.services.errors import InvalidInput

log = logging.getLogger(__name__)

#: Give up on a mail after this many failed deliveries.
MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 20


def queue_mail(recipient: str, subject: str, body: str, purpose: str) -> OutgoingMail:
    """Put a plain-text mail in the outbox (the caller commits)."""
    mail = OutgoingMail(recipient=recipient, subject=subject[:200], body=body, purpose=purpose)
    db.session.add(mail)
    return mail


@dataclass
class SmtpTarget:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:password@]host[:port]`` or ``smtps://`` for TLS from the first byte."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InvalidInput("The SMTP URL must look like smtp://host:port or smtps://host:port.")
    tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 25)
    except ValueError as exc:
        raise InvalidInput("The SMTP URL has an invalid port.") from exc
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0


def send_pending(smtp_url: str, sender: str, limit: int = 100) -> DrainResult:
    """Deliver up to ``limit`` due mails; each outcome is committed on its own."""
    target = parse_smtp_url(smtp_url)
    now = utcnow()
    due = db.session.scalars(
        select(OutgoingMail)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.next_attempt_at <= now,
            OutgoingMail.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutgoingMail.id)
        .limit(limit)
    ).all()
    result = DrainResult()
    if not due:
        return result
    try:
        connection = _connect(target)
    except (OSError, smtplib.SMTPException) as exc:
        for mail in due:
            _failed(mail, exc)
        db.session.commit()
        result.failed = len(due)
        return result
    with connection:
        for mail in due:
            try:
                connection.send_message(_message(mail, sender))
            except (OSError, smtplib.SMTPException) as exc:
                _failed(mail, exc)
                result.failed += 1
            else:
                mail.sent_at = utcnow()
                mail.attempts += 1
                mail.last_error = None
                result.sent += 1
            db.session.commit()
    return result


def _connect(target: SmtpTarget) -> smtplib.SMTP:
    if target.tls:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        connection = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
    if target.username:
        connection.login(target.username, target.password or "")
    return connection


def _message(mail: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _failed(mail: OutgoingMail, exc: Exception) -> None:
    mail.attempts += 1
    # Minutes, doubling: 1, 2, 4, ... so a short outage costs little and a long one little load.
    mail.next_attempt_at = utcnow() + timedelta(minutes=2 ** (mail.attempts - 1))
    # The exception's class and SMTP reply only: never the recipient or the body.
    mail.last_error = _describe(exc)
    log.warning("mail %s to be retried: %s", mail.id, mail.last_error)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code}"
    return type(exc).__name__
