"""The worker's rules in process: claims, leases, stopping, and ``mam-idp worker --once``.

The processes themselves (signals, restarts, two workers at once) are tested in
tests/live/test_worker.py.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import OutgoingMail, PartnerNotification
from idp.models.types import utcnow
from idp.services import mail, notifications
from idp.worker import Worker
from tests.factories import make_client
from tests.receiver import running_receiver
from tests.smtp_sink import running_smtp_sink

SENDER = "no-reply@login.miles-and-more.example"


@pytest.fixture
def sink():
    with running_smtp_sink() as server:
        yield server


@pytest.fixture
def receiver():
    with running_receiver() as partner:
        yield partner


@pytest.fixture
def with_smtp(app, sink, monkeypatch):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], smtp_url=sink.url))


def _queue(recipient: str) -> OutgoingMail:
    row = mail.queue_mail(recipient, "Your Miles & More login code", "Code: 424242", "email_code")
    db.session.commit()
    return row


def _lease(row: OutgoingMail, attempts: int, due_in: timedelta) -> None:
    """Put the row as a sender leaves it when it claims it (attempts counted, lease set)."""
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == row.id)
        .values(attempts=attempts, next_attempt_at=utcnow() + due_in)
    )
    db.session.commit()


def test_a_mail_is_claimed_once(app_ctx):
    row = _queue("anna@example.com")
    first = mail._claim(row.id)
    assert first is not None and first.recipient == "anna@example.com" and first.attempts == 1
    assert mail._claim(row.id) is None  # the second sender finds it taken
    db.session.refresh(row)
    assert row.attempts == 1 and row.next_attempt_at > utcnow() + timedelta(seconds=60)


def test_a_leased_mail_waits_and_is_sent_once_its_sender_is_gone(app_ctx, sink):
    row = _queue("anna@example.com")
    _lease(row, attempts=1, due_in=timedelta(seconds=90))  # another sender has it in hand
    assert mail.send_pending(sink.url, SENDER).sent == 0
    assert sink.messages == []
    _lease(row, attempts=1, due_in=-timedelta(seconds=1))  # that sender died; the lease ran out
    assert mail.send_pending(sink.url, SENDER).sent == 1
    [message] = sink.wait_for(1, timeout=1)
    assert message["To"] == "anna@example.com"
    db.session.refresh(row)
    assert row.sent_at is not None and row.attempts == 2


def test_a_mail_out_of_attempts_is_not_claimed(app_ctx, sink):
    row = _queue("anna@example.com")
    _lease(row, attempts=mail.MAX_ATTEMPTS, due_in=-timedelta(seconds=1))
    assert mail._claim(row.id) is None
    assert mail.send_pending(sink.url, SENDER).sent == 0


def test_a_stop_request_finishes_the_mail_in_hand_and_leaves_the_rest(app_ctx, sink):
    rows = [_queue(f"member{i}@example.com") for i in range(3)]
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) > 1  # the stop arrives while the first mail is being sent

    result = mail.send_pending(sink.url, SENDER, should_stop=should_stop)
    assert (result.sent, result.failed) == (1, 0)
    for row in rows:
        db.session.refresh(row)
    assert [row.sent_at is not None for row in rows] == [True, False, False]
    assert [row.attempts for row in rows] == [1, 0, 0]


def test_a_stop_request_also_ends_a_notification_run(app_ctx, receiver):
    client, _ = make_client()
    first = notifications.queue(client, "backchannel_logout", {"sid": "a"}, url=receiver.url)
    second = notifications.queue(client, "backchannel_logout", {"sid": "b"}, url=receiver.url)
    db.session.commit()
    asked = []
    counts = notifications.deliver_due(should_stop=lambda: asked.append(1) or len(asked) > 1)
    assert counts["delivered"] == 1 and counts["pending"] == 1
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.delivered_at is not None and second.attempts == 0


def test_worker_once_sends_mail_and_delivers_notifications(
    app, runner, app_ctx, with_smtp, sink, receiver
):
    client, _ = make_client()
    _queue("jan@example.com")
    notifications.queue(client, "backchannel_logout", {"sid": "s1"}, url=receiver.url)
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in sink.wait_for(1, timeout=1)] == ["jan@example.com"]
    assert len(receiver.wait_for(1, timeout=1)) == 1
    assert db.session.scalars(select(OutgoingMail.sent_at)).one() is not None
    assert db.session.scalars(select(PartnerNotification.delivered_at)).one() is not None
    # Nothing is sent twice.
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert len(sink.messages) == 1 and len(receiver.deliveries) == 1


def test_worker_without_smtp_says_so_once_and_keeps_the_mail(
    app, app_ctx, receiver, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], smtp_url=""))
    client, _ = make_client()
    row = _queue("jan@example.com")
    notifications.queue(client, "backchannel_logout", {"sid": "s1"}, url=receiver.url)
    db.session.commit()
    worker = Worker(app, interval=0.05)
    stopper = threading.Timer(0.6, worker.stop)
    stopper.start()
    with caplog.at_level(logging.INFO, logger="idp"):
        worker.run()  # several polls, then the stop
    stopper.join()
    messages = [r.getMessage() for r in caplog.records if r.name == "idp.worker"]
    assert sum("IDP_SMTP_URL is not set" in m for m in messages) == 1
    assert messages[-1] == "worker stopped"
    assert len(receiver.wait_for(1, timeout=1)) == 1
    db.session.refresh(row)
    assert row.sent_at is None and row.attempts == 0


def test_a_failing_run_is_logged_and_the_worker_goes_on(app, app_ctx, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], smtp_url=""))
    calls = []

    def broken(**_kwargs):
        calls.append(1)
        raise RuntimeError("database went away")

    monkeypatch.setattr(notifications, "deliver_due", broken)
    worker = Worker(app, interval=0.05)
    stopper = threading.Timer(0.4, worker.stop)
    stopper.start()
    with caplog.at_level(logging.INFO, logger="idp"):
        worker.run()
    stopper.join()
    assert len(calls) >= 2  # it kept polling after the failure
    assert any("notification run failed" in r.getMessage() for r in caplog.records)


def test_a_closed_dispatcher_fires_no_retry_and_takes_nothing_new(app, monkeypatch):
    dispatcher = notifications.Dispatcher(app)
    ran = []
    monkeypatch.setattr(dispatcher, "_run", ran.append)
    dispatcher.submit([1], delay=0.05)
    dispatcher.close()
    threading.Event().wait(0.3)
    dispatcher.submit([2])
    assert ran == []


def test_a_dispatcher_retry_fires_after_its_delay(app, monkeypatch):
    dispatcher = notifications.Dispatcher(app)
    fired = threading.Event()
    monkeypatch.setattr(dispatcher, "_run", lambda ids: fired.set())
    dispatcher.submit([1], delay=0.05)
    assert fired.wait(5)
    dispatcher.close()


def test_closing_a_dispatcher_waits_a_bounded_time_and_drops_what_is_queued(app, monkeypatch):
    dispatcher = notifications.Dispatcher(app)
    release = threading.Event()
    ran = []

    def slow_run(ids):
        ran.append(ids)
        release.wait(10)

    monkeypatch.setattr(dispatcher, "_run", slow_run)
    for i in range(notifications.WORKERS + 2):
        dispatcher.submit([i])
    deadline = time.monotonic() + 5
    while len(ran) < notifications.WORKERS and time.monotonic() < deadline:
        time.sleep(0.01)
    threads = list(dispatcher._threads)
    # Daemon threads: a process that exits does not wait for a slow partner.
    assert threads and all(t.daemon for t in threads)
    started = time.monotonic()
    assert dispatcher.close(timeout=0.2) is False
    assert time.monotonic() - started < 2
    release.set()
    for thread in threads:
        thread.join(5)
    # The two that waited in the queue were never taken: they stay due in the outbox.
    assert sorted(ids[0] for ids in ran) == list(range(notifications.WORKERS))
