"""Back-channel logout (OIDC Back-Channel Logout 1.0) delivered to a real HTTP receiver.

These tests run against ``committed_app``: delivery happens in background
threads on connections of their own, which see only committed rows.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, Client, Member, PartnerNotification, SSOSession
from idp.services import notification_delivery, notifications, signing_keys, sso, subjects
from idp.services.backchannel_logout import LOGOUT_EVENT
from tests.factories import issue_token, log_in, make_client, make_member
from tests.receiver import running_receiver

ISSUER = "http://127.0.0.1:5000"


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(notification_delivery, "BACKOFF_BASE", timedelta(seconds=0.2))
    monkeypatch.setattr(notification_delivery, "LEASE", timedelta(seconds=10))


@dataclass
class Scene:
    """A member logged in on a browser, with tokens at partners in that session."""

    browser: object
    member_id: str
    sid: str
    client_id: str
    client_pk: int
    subject: str


@pytest.fixture
def scene(committed_app, receiver):
    browser = committed_app.test_client()
    with committed_app.app_context():
        # Keys exist before anything is signed, so no test races a worker creating them.
        signing_keys.ensure_keys()
        member = make_member()[0]
        partner_client, _ = make_client(backchannel_logout_uri=receiver.url)
        sid = log_in(browser, member)
        issue_token(member, partner_client, "openid email", sid=sid)
        return Scene(
            browser=browser,
            member_id=member.id,
            sid=sid,
            client_id=partner_client.client_id,
            client_pk=partner_client.id,
            subject=subjects.subject_for(member, partner_client),
        )


def log_out(scene: Scene):
    page = scene.browser.get("/oauth/logout").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return scene.browser.post("/oauth/logout", data={"csrf_token": token, "confirm": "yes"})


def notification_rows(app, client_pk: int) -> list[PartnerNotification]:
    with app.app_context():
        rows = db.session.scalars(
            select(PartnerNotification)
            .where(PartnerNotification.client_id == client_pk)
            .order_by(PartnerNotification.id)
        ).all()
        db.session.expunge_all()
        return rows


def wait_until(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        threading.Event().wait(0.02)


def delivered(app, client_pk: int):
    rows = notification_rows(app, client_pk)
    return rows if rows and all(r.delivered_at or r.abandoned_at for r in rows) else None


def test_logout_token_reaches_the_partner_signed_and_complete(committed_app, receiver, scene):
    response = log_out(scene)
    assert response.status_code == 200

    (delivery,) = receiver.wait_for(1)
    assert delivery.path == "/backchannel-logout"
    assert delivery.content_type == "application/x-www-form-urlencoded"
    assert set(delivery.form) == {"logout_token"}
    logout_token = delivery.form["logout_token"]

    with committed_app.app_context():
        keys = KeySet.import_key_set(signing_keys.jwks())
    decoded = jwt.decode(logout_token, keys, algorithms=["RS256"])
    assert decoded.header["typ"] == "logout+jwt"
    assert decoded.header["kid"] in {k["kid"] for k in keys.as_dict()["keys"]}
    claims = decoded.claims
    assert set(claims) == {"iss", "aud", "iat", "exp", "jti", "sub", "sid", "events"}
    assert claims["iss"] == ISSUER
    assert claims["aud"] == scene.client_id
    assert claims["sub"] == scene.subject
    assert claims["sid"] == scene.sid
    assert claims["events"] == {LOGOUT_EVENT: {}}
    assert claims["exp"] - claims["iat"] == 120
    assert abs(claims["iat"] - time.time()) < 60
    assert "nonce" not in claims

    (row,) = wait_until(lambda: delivered(committed_app, scene.client_pk))
    assert row.delivered_at is not None and row.attempts == 1 and row.last_error is None
    assert logout_token not in row.payload  # the outbox keeps claims, not signed tokens


def test_only_partners_of_the_ended_session_are_told(committed_app, receiver, scene):
    with committed_app.app_context():
        member = db.session.get(Member, scene.member_id)
        other_session_client, _ = make_client(backchannel_logout_uri=receiver.url + "/other")
        issue_token(member, other_session_client, "openid", sid="f" * 32)
        silent_client, _ = make_client()  # no back-channel endpoint registered
        issue_token(member, silent_client, "openid", sid=scene.sid)
        other_pk, silent_pk = other_session_client.id, silent_client.id

    log_out(scene)
    receiver.wait_for(1)
    wait_until(lambda: delivered(committed_app, scene.client_pk))
    assert notification_rows(committed_app, other_pk) == []
    assert notification_rows(committed_app, silent_pk) == []
    assert [d.path for d in receiver.deliveries] == ["/backchannel-logout"]


def test_ending_all_sessions_tells_partners_of_each(committed_app, receiver, scene):
    with committed_app.app_context():
        member = db.session.get(Member, scene.member_id)
        second = log_in(committed_app.test_client(), member)
        partner_client = db.session.get(Client, scene.client_pk)
        issue_token(member, partner_client, "openid", sid=second)
        assert sso.end_member_sessions(member.id, reason="password_changed") == 2

    deliveries = receiver.wait_for(2)
    with committed_app.app_context():
        keys = KeySet.import_key_set(signing_keys.jwks())
    sids = {jwt.decode(d.form["logout_token"], keys).claims["sid"] for d in deliveries}
    assert sids == {scene.sid, second}


def test_a_failing_partner_is_retried_with_growing_waits(
    committed_app, receiver, scene, fast_retries
):
    receiver.script = [500, 503, 200]
    log_out(scene)
    deliveries = receiver.wait_for(3)
    first_wait = deliveries[1].at - deliveries[0].at
    second_wait = deliveries[2].at - deliveries[1].at
    assert first_wait >= 0.2
    assert second_wait >= 0.4
    (row,) = wait_until(lambda: delivered(committed_app, scene.client_pk))
    assert row.attempts == 3 and row.delivered_at is not None and row.abandoned_at is None
    with committed_app.app_context():
        keys = KeySet.import_key_set(signing_keys.jwks())
    jtis = {jwt.decode(d.form["logout_token"], keys).claims["jti"] for d in deliveries}
    assert len(jtis) == 3  # every attempt is signed afresh


def hold_first_answer(receiver) -> threading.Event:
    """Make the receiver keep its first answer until the returned event is set."""
    release = threading.Event()
    handle = receiver.handle
    answered = []

    def held_handle(request):
        response = handle(request)  # records the delivery
        with receiver.changed:
            first = not answered
            answered.append(True)
        if first:
            release.wait(timeout=30)
        return response

    receiver.handle = held_handle
    return release


def test_a_partner_that_times_out_is_retried(
    committed_app, receiver, scene, fast_retries, monkeypatch
):
    monkeypatch.setattr(notification_delivery, "DELIVERY_TIMEOUT", 0.3)
    # The first answer comes only after the retry has arrived, so the first
    # attempt cannot but time out, however slow the machine.
    release = hold_first_answer(receiver)
    try:
        log_out(scene)
        receiver.wait_for(2)
    finally:
        release.set()
    (row,) = wait_until(lambda: delivered(committed_app, scene.client_pk))
    assert row.attempts == 2 and row.delivered_at is not None


def test_a_slow_partner_does_not_delay_the_logout(committed_app, receiver, scene):
    receiver.hold = threading.Event()  # the partner answers only when released
    response = log_out(scene)
    assert response.status_code == 200
    # The partner has not answered yet: had the logout waited for the delivery, the
    # attempt would have ended (timed out, DELIVERY_TIMEOUT) before the response.
    assert not receiver.hold.is_set()
    (row,) = notification_rows(committed_app, scene.client_pk)
    assert row.delivered_at is None and row.last_error is None
    receiver.wait_for(1)  # the delivery is under way while the member already has the page
    (row,) = notification_rows(committed_app, scene.client_pk)
    assert row.delivered_at is None and row.attempts == 1
    receiver.hold.set()
    (row,) = wait_until(lambda: delivered(committed_app, scene.client_pk))
    assert row.delivered_at is not None and row.attempts == 1


def test_a_partner_that_keeps_failing_is_abandoned(
    committed_app, receiver, scene, fast_retries, monkeypatch
):
    monkeypatch.setattr(notification_delivery, "MAX_ATTEMPTS", 2)
    receiver.script = [500, 500, 500]
    log_out(scene)
    receiver.wait_for(2)
    (row,) = wait_until(lambda: delivered(committed_app, scene.client_pk))
    assert row.abandoned_at is not None and row.delivered_at is None
    assert row.attempts == 2 and row.last_error == "HTTP 500"
    with committed_app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.event == "partner_notification.abandoned",
                AuditEvent.client_id == scene.client_id,
            )
        )
        assert event is not None and event.details["attempts"] == 2
    assert len(receiver.deliveries) == 2


def test_the_cli_sends_what_is_left(committed_app, receiver, scene, monkeypatch):
    monkeypatch.setitem(committed_app.config, notifications.BACKGROUND_CONFIG_KEY, False)
    log_out(scene)
    (row,) = notification_rows(committed_app, scene.client_pk)
    assert row.delivered_at is None and row.attempts == 0
    assert receiver.deliveries == []

    result = committed_app.test_cli_runner().invoke(args=["notifications", "send", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["delivered"] >= 1 and counts["pending"] == 0
    receiver.wait_for(1)
    (row,) = notification_rows(committed_app, scene.client_pk)
    assert row.delivered_at is not None


def test_a_fault_while_queueing_never_keeps_the_member_logged_in(
    committed_app, receiver, scene, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("subject service down")

    monkeypatch.setattr("idp.services.backchannel_logout.subject_for", broken)
    response = log_out(scene)
    assert response.status_code == 200
    with committed_app.app_context():
        assert db.session.get(SSOSession, scene.sid).ended_at is not None
    assert notification_rows(committed_app, scene.client_pk) == []
