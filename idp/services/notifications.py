"""Signed messages to partners' back-channel endpoints, queued in an outbox.

A notification is queued (``queue``) in the same transaction as the event it
reports (a session ending, a consent withdrawal), so it exists exactly when the
event does. Delivery happens after that transaction commits, in a small pool of
background threads (``Dispatcher``), so a slow or failing partner never holds
up a member, nor a process that stops; what is left over (a restart, a long
outage) is sent by ``mam-idp worker``, which polls the outbox continuously, or
once by ``mam-idp notifications send``.

How a single attempt claims, signs, posts and records a row lives in
``idp.services.notification_delivery``; its public names are importable from
here too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from queue import Empty, SimpleQueue

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
    "stop_delivery",
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
    """A lazily started pool of delivery threads per application that delivers and retries.

    The delivery threads and the retry timers are daemon threads, so a process
    that exits (Ctrl+C, SIGTERM) never waits for a partner that answers slowly
    or not at all: whatever was not sent stays due in the outbox, and
    ``mam-idp worker`` sends it. (``concurrent.futures`` would join its threads
    at exit, after working off every queued delivery.) ``close()`` stops it: no
    timer fires and nothing new is taken after that; the deliveries under way
    get a bounded time to finish.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._jobs: SimpleQueue[list[int] | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._timers: set[threading.Timer] = set()
        self._closed = False
        #: Set by ``close()``: a delivery thread leaves the rest of its ids due.
        self._abandon = False

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
            self._jobs.put(list(ids))
            while len(self._threads) < WORKERS:
                thread = threading.Thread(
                    target=self._work,
                    name=f"partner-notifications-{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()

    def _fire(self, ids: list[int]) -> None:
        with self._lock:
            self._timers.discard(threading.current_thread())
        self.submit(ids)

    def close(self, timeout: float | None = None, finish_queued: bool = False) -> bool:
        """Cancel waiting retries, drop what is queued (the rows stay due) unless
        ``finish_queued``, and wait at most ``timeout`` seconds (``None``: as long
        as it takes) for the deliveries under way. True when none is left running."""
        with self._lock:
            self._closed = True
            self._abandon = not finish_queued
            timers, self._timers = self._timers, set()
            threads, self._threads = self._threads, []
        for timer in timers:
            timer.cancel()
        while not finish_queued:
            try:
                self._jobs.get_nowait()
            except Empty:
                break
        for _ in threads:
            self._jobs.put(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def _work(self) -> None:
        while (ids := self._jobs.get()) is not None:
            try:
                self._run(ids)
            except Exception:  # a fault outside a delivery must not end the thread
                log.exception("delivering partner notifications %s failed", ids)

    def _run(self, ids: list[int]) -> None:
        with self.app.app_context():
            for notification_id in ids:
                if self._abandon:
                    return  # the rest stays due in the outbox
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


def stop_delivery(app: Flask, timeout: float, finish_queued: bool = False) -> bool:
    """Close the application's dispatcher, if it ever started, waiting at most ``timeout`` s.

    For a process that stops: a server drops what is queued, a command that
    queued notifications lets them be tried (``finish_queued``); what is not sent
    by then stays due in the outbox. True when no delivery was left running.
    """
    existing = app.extensions.get("partner_notifications")
    return existing.close(timeout, finish_queued) if existing is not None else True


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
