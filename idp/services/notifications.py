"""Signed messages to partners' back-channel endpoints, queued in an outbox.

A notification is queued (``queue``) in the same transaction as the event it
reports (a session ending, a consent withdrawal), so it exists exactly when the
event does. Delivery happens after that transaction commits, in a small pool of
background threads (``Dispatcher``), so a slow or failing partner never holds
up a member; what is left over (a restart, a long outage) is sent by
``mam-idp worker``, which polls the outbox continuously, or once by
``mam-idp notifications send``.

How a single attempt claims, signs, posts and records a row lives in
``idp.services.notification_delivery``; its public names are importable from
here too.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from idp.extensions import db
from idp.models import Client, PartnerNotification
from idp.models.types import utcnow
from idp.services import notification_delivery as delivery
from idp.services.notification_delivery import (
    KINDS,
    Kind,
    Outcome,
    backoff,
    deliver,
    deliver_due,
    due_ids,
    sign,
)

__all__ = [
    "BACKGROUND_CONFIG_KEY",
    "KINDS",
    "WORKERS",
    "Dispatcher",
    "Kind",
    "Outcome",
    "backoff",
    "deliver",
    "deliver_due",
    "dispatcher",
    "due_ids",
    "queue",
    "sign",
]

log = logging.getLogger(__name__)

#: Background delivery threads per process.
WORKERS = 4
#: Flask config key: deliver in background threads after commit (tests with a
#: rolled-back shared connection turn this off and deliver explicitly).
BACKGROUND_CONFIG_KEY = "NOTIFICATIONS_IN_BACKGROUND"

_SESSION_KEY = "partner_notifications_to_send"


def queue(
    client: Client, kind: str, claims: dict, url: str, stream_id: str | None = None
) -> PartnerNotification:
    """Add a notification to the caller's transaction; it is sent once that commits.

    ``claims`` are the token's claims without ``iat``, ``exp`` and ``jti``, which
    each delivery attempt sets. The token is signed with the algorithm the
    client registered for ID tokens, so it verifies with what the partner has.
    ``stream_id`` names the Shared Signals stream of a pushed SET, whose
    ``Authorization`` header goes with every attempt.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    payload = {"alg": client.id_token_signed_response_alg or "RS256", "claims": claims}
    row = PartnerNotification(
        client_id=client.id,
        kind=kind,
        url=url,
        stream_id=stream_id,
        payload=json.dumps(payload, sort_keys=True),
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_SESSION_KEY, []).append(row.id)
    return row


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
                    outcome = delivery.deliver(notification_id)
                except Exception:
                    log.exception("delivering partner notification %s failed", notification_id)
                    db.session.rollback()
                    # The row may still be leased: look again once the lease has run out.
                    self.submit([notification_id], delay=delivery.LEASE.total_seconds())
                    continue
                if outcome.retry_at is not None:
                    wait = (outcome.retry_at - delivery.utcnow()).total_seconds()
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
