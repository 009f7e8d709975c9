"""Signed messages to partners' back-channel endpoints, delivered from an outbox.

A notification is queued in the same transaction as the event it reports (a
session ending, later a consent withdrawal), so it exists exactly when the event
does. Delivery happens after that transaction commits, in a small pool of
background threads, so a slow or failing partner never holds up a member; what
is left over (a restart, a long outage) is sent by ``mam-idp worker``, which
polls the outbox continuously, or once by ``mam-idp notifications send``.

Every attempt, from a background thread or a worker in any process, first
claims its row in one UPDATE that counts the attempt and leases the row
(``LEASE``): only one of them sends, and a row whose sender died is due again
when the lease runs out.

The outbox keeps the claims, not a signed token: every attempt signs afresh
with a new ``iat``, ``exp`` and ``jti``, so a token delivered on the fifth try is
as fresh as one delivered on the first (logout tokens live two minutes; retries
span an hour). Delivery is at least once: a partner may see the same event twice.

Each kind of notification says how it is signed and posted (``KINDS``):
``backchannel_logout`` (OIDC Back-Channel Logout 1.0 §2.5: a form-encoded
``logout_token``) and ``security_event`` (RFC 8417 tokens pushed as the request
body, RFC 8935).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import Flask, current_app, has_app_context
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from idp import defaults
from idp.extensions import db
from idp.models import Client, PartnerNotification
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
#: Background delivery threads per process.
WORKERS = 4
#: Flask config key: deliver in background threads after commit (tests with a
#: rolled-back shared connection turn this off and deliver explicitly).
BACKGROUND_CONFIG_KEY = "NOTIFICATIONS_IN_BACKGROUND"

_SESSION_KEY = "partner_notifications_to_send"


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


def queue(client: Client, kind: str, claims: dict, url: str) -> PartnerNotification:
    """Add a notification to the caller's transaction; it is sent once that commits.

    ``claims`` are the token's claims without ``iat``, ``exp`` and ``jti``, which
    each delivery attempt sets. The token is signed with the algorithm the
    client registered for ID tokens, so it verifies with what the partner has.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    payload = {"alg": client.id_token_signed_response_alg or "RS256", "claims": claims}
    row = PartnerNotification(
        client_id=client.id,
        kind=kind,
        url=url,
        payload=json.dumps(payload, sort_keys=True),
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_SESSION_KEY, []).append(row.id)
    return row


# -- delivery ------------------------------------------------------------------


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


def deliver_due(
    limit: int = 500, should_stop: Callable[[], bool] | None = None
) -> dict[str, int]:
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


# -- background delivery after commit ----------------------------------------------


class Dispatcher:
    """A lazily started thread pool per application that delivers and retries.

    Retries wait on daemon timers, so a process that exits leaves them to
    ``mam-idp worker`` instead of waiting for them. ``close()`` stops it: no
    timer fires and nothing new is taken after that.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._closed = False

    def submit(self, ids: list[int], delay: float = 0.0) -> None:
        with self._lock:
            if self._closed:
                return
            if delay > 0:
                timer = threading.Timer(delay, self._fire, args=(ids,))
                timer.daemon = True
                self._timers.add(timer)
                timer.start()
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=WORKERS, thread_name_prefix="partner-notifications"
                )
            executor = self._executor
        executor.submit(self._run, list(ids))

    def _fire(self, ids: list[int]) -> None:
        with self._lock:
            self._timers.discard(threading.current_thread())
        self.submit(ids)

    def close(self) -> None:
        """Cancel waiting retries and wait for deliveries in progress (the rows stay due)."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
            executor, self._executor = self._executor, None
        for timer in timers:
            timer.cancel()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, ids: list[int]) -> None:
        with self.app.app_context():
            for notification_id in ids:
                try:
                    outcome = deliver(notification_id)
                except Exception:
                    log.exception("delivering partner notification %s failed", notification_id)
                    db.session.rollback()
                    # The row may still be leased: look again once the lease has run out.
                    self.submit([notification_id], delay=LEASE.total_seconds())
                    continue
                if outcome.retry_at is not None:
                    wait = (outcome.retry_at - utcnow()).total_seconds()
                    # A little past the due time, so the claim finds it due.
                    self.submit([notification_id], delay=max(wait, 0) + 0.05)


def dispatcher(app: Flask) -> Dispatcher:
    existing = app.extensions.get("partner_notifications")
    if existing is None:
        existing = app.extensions.setdefault("partner_notifications", Dispatcher(app))
    return existing


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the rows are not visible to other connections yet
    ids = session.info.pop(_SESSION_KEY, None)
    if not ids or not has_app_context():
        return
    app = current_app._get_current_object()
    if app.config.get(BACKGROUND_CONFIG_KEY, True):
        dispatcher(app).submit(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # Rolled back: the rows are gone, and so is the reason to send them. (After a
    # savepoint rollback some may remain; a worker skips ids it cannot find.)
    if not session.in_nested_transaction():
        session.info.pop(_SESSION_KEY, None)
