"""Outgoing mail: queued in the outbox in the caller's transaction, sent by a separate drain.

Queuing inside the transaction that creates, say, an email code means a mail
exists exactly when its code does. ``send_pending`` (``mam-idp worker``
continuously, ``mam-idp mail send`` once) delivers over SMTP and retries with
growing pauses; without an SMTP URL the mail stays in the outbox (the demo and
the tests read it there).

Each mail is claimed for one attempt by a single UPDATE that counts the attempt
and leases the row, so any number of senders can run at once without sending a
mail twice; a sender that dies mid-attempt leaves the row to be taken again when
the lease runs out. Delivery is at least once: a crash after the SMTP server
accepted a mail but before ``sent_at`` was written sends it again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import OutgoingMail
from idp.models.types import utcnow
from idp.services.errors import InvalidInput

log = logging.getLogger(__name__)

#: Give up on a mail after this many failed deliveries.
MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 20
#: While one sender has a mail in hand, others leave it alone this long; longer
#: than one attempt can take (a connection and a send, each within SMTP_TIMEOUT).
LEASE = timedelta(minutes=2)


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


def send_pending(
    smtp_url: str,
    sender: str,
    limit: int = 100,
    should_stop: Callable[[], bool] | None = None,
) -> DrainResult:
    """Deliver up to ``limit`` due mails; each claim and each outcome is committed on its own.

    ``should_stop`` is asked before each mail, so a worker that is told to stop
    finishes the mail in hand and leaves the rest for the next run.
    """
    target = parse_smtp_url(smtp_url)
    result = DrainResult()
    connection: smtplib.SMTP | None = None
    refused: Exception | None = None
    try:
        for mail_id in due_ids(limit):
            if should_stop is not None and should_stop():
                break
            letter = _claim(mail_id)
            if letter is None:
                continue  # sent meanwhile, or another sender holds it
            if connection is None and refused is None:
                try:
                    connection = _connect(target)
                except (OSError, smtplib.SMTPException) as exc:
                    refused = exc
            error = refused
            if error is None:
                try:
                    connection.send_message(_message(letter, sender))
                except (OSError, smtplib.SMTPException) as exc:
                    error = exc
            # An unreachable server fails every mail of this run; the next run tries again.
            _record(letter, error)
            if error is None:
                result.sent += 1
            else:
                result.failed += 1
    finally:
        if connection is not None:
            _quit(connection)
        # No read transaction stays open between runs (SQLite writers wait for readers).
        db.session.rollback()
    return result


def due_ids(limit: int = 100) -> list[int]:
    """Mails waiting to be sent whose next attempt is due, oldest first."""
    return list(
        db.session.scalars(
            select(OutgoingMail.id)
            .where(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.next_attempt_at <= utcnow(),
                OutgoingMail.attempts < MAX_ATTEMPTS,
            )
            .order_by(OutgoingMail.id)
            .limit(limit)
        )
    )


def pending_count() -> int:
    """Mails not yet sent that will still be tried."""
    return db.session.scalar(
        select(func.count(OutgoingMail.id)).where(
            OutgoingMail.sent_at.is_(None), OutgoingMail.attempts < MAX_ATTEMPTS
        )
    )


@dataclass
class _Letter:
    """One claimed mail, read before the SMTP dialogue so no transaction stays open."""

    id: int
    purpose: str
    recipient: str
    subject: str
    body: str
    attempts: int


def _claim(mail_id: int) -> _Letter | None:
    """Take one mail for one attempt, in one statement, so two senders never both send it.

    The claim counts the attempt and moves the next attempt a lease ahead: a
    sender that dies mid-attempt leaves the mail to be tried again once the
    lease has run out.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.next_attempt_at <= now,
            OutgoingMail.attempts < MAX_ATTEMPTS,
        )
        .values(attempts=OutgoingMail.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    mail = db.session.get(OutgoingMail, mail_id)
    db.session.refresh(mail)
    letter = _Letter(
        id=mail.id,
        purpose=mail.purpose,
        recipient=mail.recipient,
        subject=mail.subject,
        body=mail.body,
        attempts=mail.attempts,
    )
    db.session.commit()
    return letter


def _record(letter: _Letter, error: Exception | None) -> None:
    """Write the outcome of one attempt in one statement, and commit it."""
    if error is None:
        values: dict = {"sent_at": utcnow(), "last_error": None}
        log.info("mail %s (%s) sent", letter.id, letter.purpose)
    else:
        # Minutes, doubling: 1, 2, 4, ... so a short outage costs little and a long one little load.
        values = {
            "next_attempt_at": utcnow() + timedelta(minutes=2 ** (letter.attempts - 1)),
            # The exception's class and SMTP reply only: never the recipient or the body.
            "last_error": _describe(error),
        }
        log.warning(
            "mail %s (%s) to be retried after attempt %s: %s",
            letter.id,
            letter.purpose,
            letter.attempts,
            values["last_error"],
        )
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == letter.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def _connect(target: SmtpTarget) -> smtplib.SMTP:
    if target.tls:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        connection = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
    if target.username:
        try:
            connection.login(target.username, target.password or "")
        except BaseException:
            connection.close()
            raise
    return connection


def _message(mail: _Letter, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code}"
    return type(exc).__name__
