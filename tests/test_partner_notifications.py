"""The partner notification outbox: schedule, kinds, transactions.

Delivery is driven by hand here (``deliver``, ``deliver_due``) with the clock
moved by patching ``utcnow`` of both modules; the live retries run in test_backchannel_logout.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from sqlalchemy import select

from idp.extensions import db
from idp.models import PartnerNotification
from idp.models.types import utcnow
from idp.services import notification_delivery, notifications, signing_keys
from tests.factories import make_client
from tests.receiver import free_port, running_receiver


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    # Queueing stamps rows as due now, delivery compares with now: one clock for both.
    monkeypatch.setattr(notifications, "utcnow", clock)
    monkeypatch.setattr(notification_delivery, "utcnow", clock)
    return clock


def test_backoff_doubles_and_is_capped():
    assert notifications.backoff(1) == timedelta(seconds=30)
    assert notifications.backoff(2) == timedelta(seconds=60)
    assert notifications.backoff(4) == timedelta(seconds=240)
    assert notifications.backoff(20) == notification_delivery.BACKOFF_MAX


def test_failed_attempts_wait_longer_each_time_then_give_up(app_ctx, clock, monkeypatch):
    monkeypatch.setattr(notification_delivery, "MAX_ATTEMPTS", 4)
    client, _ = make_client()
    closed = f"http://127.0.0.1:{free_port()}/nobody-listens"
    row = notifications.queue(client, "backchannel_logout", {"sid": "s"}, url=closed)
    db.session.commit()
    start = clock.now

    outcome = notifications.deliver(row.id)
    assert outcome.status == "failed"
    assert outcome.retry_at == start + timedelta(seconds=30)
    db.session.refresh(row)
    assert row.attempts == 1 and row.last_error == "ConnectionError"
    assert row.next_attempt_at == start + timedelta(seconds=30)

    clock.advance(seconds=29)
    early = notifications.deliver(row.id)
    assert early.status == "skipped" and early.retry_at == start + timedelta(seconds=30)
    db.session.refresh(row)
    assert row.attempts == 1
    assert notifications.deliver_due()["failed"] == 0

    clock.advance(seconds=1)
    assert notifications.deliver(row.id).retry_at == clock.now + timedelta(seconds=60)
    clock.advance(seconds=60)
    assert notifications.deliver_due() == {
        "delivered": 0,
        "failed": 1,
        "abandoned": 0,
        "skipped": 0,
        "pending": 1,
    }
    db.session.refresh(row)
    assert row.next_attempt_at == clock.now + timedelta(seconds=120)

    clock.advance(seconds=120)
    assert notifications.deliver(row.id).status == "abandoned"
    db.session.refresh(row)
    assert row.attempts == 4 and row.abandoned_at == clock.now
    clock.advance(hours=5)
    assert notifications.deliver(row.id) == notifications.Outcome("skipped")
    assert notifications.deliver_due()["pending"] == 0


def test_a_row_held_by_another_worker_is_left_alone(app_ctx, clock):
    client, _ = make_client()
    row = notifications.queue(client, "backchannel_logout", {"sid": "s"}, url="https://x.example")
    db.session.commit()
    assert notification_delivery._claim(row.id, clock.now)  # another worker took it
    outcome = notifications.deliver(row.id)
    assert outcome.status == "skipped"
    assert outcome.retry_at == clock.now + notification_delivery.LEASE
    db.session.refresh(row)
    assert row.attempts == 1


def test_security_events_are_pushed_as_the_request_body(app_ctx):
    client, _ = make_client(id_token_signed_response_alg="ES256")
    event = "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
    with running_receiver() as receiver:
        row = notifications.queue(
            client,
            "security_event",
            {"iss": "http://127.0.0.1:5000", "aud": client.client_id, "events": {event: {}}},
            url=receiver.url,
        )
        db.session.commit()
        assert notifications.deliver(row.id).status == "delivered"
        (delivery,) = receiver.deliveries
    assert delivery.content_type == "application/secevent+jwt"
    token = jwt.decode(delivery.body.decode(), signing_keys.public_key_set(), algorithms=["ES256"])
    assert token.header["typ"] == "secevent+jwt"
    assert token.claims["events"] == {event: {}}
    assert "exp" not in token.claims and {"iat", "jti"} <= set(token.claims)


def test_an_unknown_kind_is_refused(app_ctx):
    client, _ = make_client()
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.queue(client, "carrier_pigeon", {}, url="https://x.example")


def test_a_rolled_back_notification_is_neither_kept_nor_sent(app_ctx):
    client, _ = make_client()
    notifications.queue(client, "backchannel_logout", {"sid": "s"}, url="https://x.example")
    assert db.session.info.get(notifications._SESSION_KEY)
    db.session.rollback()
    assert not db.session.info.get(notifications._SESSION_KEY)
    assert db.session.scalars(select(PartnerNotification)).all() == []
