"""Delivering partner notifications: one attempt at a row of the outbox, and the due rows.

Every attempt, from a background thread or a worker in any process, first
claims its row in one UPDATE that counts the attempt and leases the row
(``LEASE``): only one of them sends, and a row whose sender died is due again
when the lease runs out. A failed attempt waits ``backoff`` before the next;
after ``MAX_ATTEMPTS`` the row is abandoned and the abandonment audited.

The outbox keeps the claims, not a signed token: every attempt signs afresh
(``sign``) with a new ``iat``, ``exp`` and ``jti``, so a token delivered on the
fifth try is as fresh as one delivered on the first (logout tokens live two
minutes; retries span an hour). Delivery is at least once: a partner may see
the same event twice.

Each kind of notification says how it is signed and posted (``KINDS``):
``backchannel_logout`` (OIDC Back-Channel Logout 1.0 §2.5: a form-encoded
``logout_token``) and ``security_event`` (RFC 8417 tokens pushed as the request
body, RFC 8935; for a Shared Signals stream with the ``Authorization`` header
its receiver configured, SSF 1.0 §8.1.1, read from the stream at each attempt). Queueing and delivery after commit live in
``idp.services.notifications``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import select, update

from idp import defaults
from idp.extensions import db
from idp.models import PartnerNotification, SsfStream
from idp.models.types import new_id, utcnow
from idp.services import audit, signing_keys

log = logging.getLogger(__name__)

#: Seconds to wait for a partner's answer (connect and read).
DELIVERY_TIMEOUT = 5.0
#: Attempts before a notification is abandoned.
MAX_ATTEMPTS = 8
#: The wait after the first failed attempt; it doubles after every further one.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
#: While one worker delivers, others leave the row alone this long.
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Kind:
    """How one kind of notification is signed and posted."""

    #: The JWT ``typ`` header (explicit typing, RFC 8725 §3.11).
    typ: str
    #: Lifetime of each signed token; None for tokens without ``exp``.
    lifetime: timedelta | None
    #: The form field carrying the token, or None to post the token as the body.
    form_field: str | None
    content_type: str


KINDS: dict[str, Kind] = {
    # OIDC Back-Channel Logout 1.0 §2.4 and §2.5.
    "backchannel_logout": Kind(
        typ="logout+jwt",
        lifetime=timedelta(seconds=defaults.LOGOUT_TOKEN_SECONDS),
        form_field="logout_token",
        content_type="application/x-www-form-urlencoded",
    ),
    # RFC 8417 §2.3 (SETs carry the event time in the event, not an expiry) and
    # RFC 8935 §2 (push delivery: the SET is the body).
    "security_event": Kind(
        typ="secevent+jwt",
        lifetime=None,
        form_field=None,
        content_type="application/secevent+jwt",
    ),
}


@dataclass
class Outcome:
    """What one call to ``deliver`` did."""

    #: ``delivered``, ``failed`` (will be retried), ``abandoned`` or ``skipped``.
    status: str
    #: When the notification is due again (failed, or skipped while not yet due).
    retry_at: datetime | None = None


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts: base, 2×base, 4×base, ... capped."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claim(notification_id: int, now: datetime) -> bool:
    """Take the row for one attempt, in one statement, so two workers never both send."""
    result = db.session.execute(
        update(PartnerNotification)
        .where(
            PartnerNotification.id == notification_id,
            PartnerNotification.delivered_at.is_(None),
            PartnerNotification.abandoned_at.is_(None),
            PartnerNotification.next_attempt_at <= now,
        )
        .values(
            attempts=PartnerNotification.attempts + 1,
            next_attempt_at=now + LEASE,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def sign(row: PartnerNotification, now: datetime) -> str:
    """A freshly signed token for one attempt."""
    kind = KINDS[row.kind]
    payload = json.loads(row.payload)
    claims = dict(payload["claims"])
    claims["iat"] = int(now.timestamp())
    if kind.lifetime is not None:
        claims["exp"] = int((now + kind.lifetime).timestamp())
    claims["jti"] = new_id()
    return signing_keys.sign(claims, alg=payload.get("alg", "RS256"), typ=kind.typ)


@dataclass
class _Attempt:
    """What one attempt needs, read before the request so no transaction stays open."""

    notification_id: int
    kind: str
    url: str
    attempts: int
    client_id: str
    token: str | None = None
    error: str | None = None
    #: The stream's ``Authorization`` header for a pushed SET, if it has one.
    authorization: str | None = None


def _prepare(notification_id: int, now: datetime) -> _Attempt:
    row = db.session.get(PartnerNotification, notification_id)
    db.session.refresh(row)
    attempt = _Attempt(
        notification_id=row.id,
        kind=row.kind,
        url=row.url,
        attempts=row.attempts,
        client_id=row.client.client_id,
    )
    try:
        if row.stream_id is not None:
            stream = db.session.get(SsfStream, row.stream_id)
            attempt.authorization = stream.authorization_header if stream else None
        attempt.token = sign(row, now)
    except Exception as exc:  # a signing fault must not leave the row leased forever
        log.exception("could not sign partner notification %s", notification_id)
        attempt.error = type(exc).__name__
    # End the read transaction: no lock or snapshot is held while the partner answers.
    db.session.commit()
    return attempt


def _post(attempt: _Attempt) -> str | None:
    """POST the token; None when the partner answered 2xx, else what went wrong.

    The error is a status or an exception class, never the token or the answer body.
    """
    kind = KINDS[attempt.kind]
    headers = {"Accept": "application/json"}
    if attempt.authorization:
        headers["Authorization"] = attempt.authorization
    if kind.form_field:
        body: dict | str = {kind.form_field: attempt.token}
    else:
        body = attempt.token
        headers["Content-Type"] = kind.content_type
    try:
        response = requests.post(
            attempt.url,
            data=body,
            headers=headers,
            timeout=DELIVERY_TIMEOUT,
            allow_redirects=False,  # a redirect is not a delivery, and could lead anywhere
        )
    except requests.RequestException as exc:
        return type(exc).__name__
    response.close()
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def _record(attempt: _Attempt) -> Outcome:
    """Write the outcome; the transaction starts with the write (no read to upgrade)."""
    finished = utcnow()
    values: dict = {"last_error": attempt.error}
    if attempt.error is None:
        values["delivered_at"] = finished
        outcome = Outcome("delivered")
    elif attempt.attempts >= MAX_ATTEMPTS:
        values["abandoned_at"] = finished
        outcome = Outcome("abandoned")
    else:
        values["next_attempt_at"] = finished + backoff(attempt.attempts)
        outcome = Outcome("failed", retry_at=values["next_attempt_at"])
    db.session.execute(
        update(PartnerNotification)
        .where(PartnerNotification.id == attempt.notification_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if outcome.status == "abandoned":
        audit.record(
            "partner_notification.abandoned",
            client_id=attempt.client_id,
            kind=attempt.kind,
            notification_id=attempt.notification_id,
            attempts=attempt.attempts,
            error=attempt.error,
        )
    db.session.commit()
    return outcome


def deliver(notification_id: int) -> Outcome:
    """One attempt at one notification, if it is due and nobody else is at it; commits."""
    now = utcnow()
    if not _claim(notification_id, now):
        row = db.session.get(PartnerNotification, notification_id)
        if row is None:
            return Outcome("skipped")
        db.session.refresh(row)
        if row.delivered_at or row.abandoned_at:
            return Outcome("skipped")
        # Not due yet, or another worker holds it: look again when it is due.
        return Outcome("skipped", retry_at=row.next_attempt_at)
    attempt = _prepare(notification_id, now)
    if attempt.error is None:
        attempt.error = _post(attempt)
    outcome = _record(attempt)
    log.info(
        "partner notification %s (%s) to client %s: %s after %s attempt(s)%s",
        attempt.notification_id,
        attempt.kind,
        attempt.client_id,
        outcome.status,
        attempt.attempts,
        f" ({attempt.error})" if attempt.error else "",
    )
    return outcome


def due_ids(limit: int = 500) -> list[int]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(PartnerNotification.id)
            .where(
                PartnerNotification.delivered_at.is_(None),
                PartnerNotification.abandoned_at.is_(None),
                PartnerNotification.next_attempt_at <= now,
            )
            .order_by(PartnerNotification.next_attempt_at, PartnerNotification.id)
            .limit(limit)
        )
    )


def deliver_due(limit: int = 500, should_stop: Callable[[], bool] | None = None) -> dict[str, int]:
    """One attempt at every notification that is due (the CLI, the worker); returns counts.

    ``should_stop`` is asked before each notification, so a worker that is told
    to stop finishes the one in hand and leaves the rest for its next run.
    """
    counts = {"delivered": 0, "failed": 0, "abandoned": 0, "skipped": 0}
    for notification_id in due_ids(limit):
        if should_stop is not None and should_stop():
            break
        counts[deliver(notification_id).status] += 1
    counts["pending"] = db.session.scalar(
        select(db.func.count(PartnerNotification.id)).where(
            PartnerNotification.delivered_at.is_(None),
            PartnerNotification.abandoned_at.is_(None),
        )
    )
    # End the read: a worker polling an idle outbox holds no transaction between runs.
    db.session.commit()
    return counts
