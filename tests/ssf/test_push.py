"""Push delivery (RFC 8935) through a stream: verification and real events reach a receiver.

The receiver is a small HTTP server in the test (tests.receiver); every SET it
gets is verified against the JWKS the transmitter metadata names.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, PartnerNotification, SsfEvent
from tests.oauth.test_withdrawal import revoke_from_connected_apps
from tests.ssf.conftest import (
    CONSENT_REVOKED,
    PUSH,
    SCOPE,
    TOKEN_REVOKED,
    VERIFICATION,
    single_event,
)


def push_stream(ssf, rp, receiver, **config) -> tuple[str, str]:
    token = ssf.access_token(rp)
    config.setdefault("events_requested", [TOKEN_REVOKED, CONSENT_REVOKED])
    delivery = {
        "method": PUSH,
        "endpoint_url": receiver.url,
        "authorization_header": "Bearer partner-receiver-key",
    }
    stream = ssf.create(token, delivery=delivery, **config)
    return token, stream["stream_id"]


def test_verification_event_reaches_the_receiver_signed(ssf, rp, receiver):
    token, stream_id = push_stream(ssf, rp, receiver)
    response = ssf.call(
        "POST", "verification_endpoint", token, {"stream_id": stream_id, "state": "VGhpcyBpcyBh"}
    )
    assert response.status_code == 204
    assert ssf.deliver()["delivered"] == 1
    (delivery,) = receiver.deliveries
    assert delivery.content_type == "application/secevent+jwt"
    assert delivery.headers["Authorization"] == "Bearer partner-receiver-key"
    claims = ssf.verified(delivery.body.decode(), rp.client_id)
    assert single_event(claims) == (VERIFICATION, {"state": "VGhpcyBpcyBh"})
    assert claims["sub_id"] == {"format": "opaque", "id": stream_id}
    # min_verification_interval: the next request too soon is refused, and sends nothing.
    again = ssf.call("POST", "verification_endpoint", token, {"stream_id": stream_id})
    assert again.status_code == 429 and again.get_json()["error"] == "too_many_requests"
    assert ssf.deliver()["delivered"] == 0


def test_bad_verification_requests_are_4xx(ssf, rp, receiver):
    token, stream_id = push_stream(ssf, rp, receiver)
    for body, status in (
        ({}, 400),
        ({"stream_id": stream_id, "state": 5}, 400),
        ({"stream_id": stream_id, "state": "x" * 501}, 400),
        ({"stream_id": "f" * 32}, 404),
        ({"stream_id": "x" * 65}, 404),
    ):
        response = ssf.call("POST", "verification_endpoint", token, body)
        assert response.status_code == status, body
        assert "error" in response.get_json()
    assert ssf.deliver()["delivered"] == 0


def test_withdrawal_on_the_account_page_is_pushed_through_the_stream(ssf, rp, receiver, member_id):
    with ssf.app.app_context():
        # A stream takes over from the registered endpoint.
        db.session.get(Client, rp.pk).security_event_uri = "https://partner.example/legacy"
        db.session.commit()
    push_stream(ssf, rp, receiver)
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    assert revoke_from_connected_apps(ssf, rp.partner_id).status_code in (302, 303)
    assert ssf.deliver()["delivered"] == 2
    events = {}
    for delivery in receiver.deliveries:
        claims = ssf.verified(delivery.body.decode(), rp.client_id)
        event_type, body = single_event(claims)
        events[event_type] = (claims, body)
    assert set(events) == {TOKEN_REVOKED, CONSENT_REVOKED}
    claims, revoked = events[TOKEN_REVOKED]
    assert revoked["reason"] == "consent_withdrawn"
    assert claims["sub_id"]["format"] == "iss_sub" and "sub" not in claims
    assert events[CONSENT_REVOKED][1]["initiator"] == "member"
    with ssf.app.app_context():
        urls = db.session.scalars(select(PartnerNotification.url)).all()
        assert "https://partner.example/legacy" not in urls


def test_only_requested_events_are_delivered(ssf, rp, receiver, member_id):
    push_stream(ssf, rp, receiver, events_requested=[CONSENT_REVOKED])
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(ssf, rp.partner_id)
    assert ssf.deliver()["delivered"] == 1
    (delivery,) = receiver.deliveries
    event_type, _ = single_event(ssf.verified(delivery.body.decode(), rp.client_id))
    assert event_type == CONSENT_REVOKED


def test_the_security_event_uri_without_a_stream_still_receives(ssf, rp, receiver, member_id):
    with ssf.app.app_context():
        db.session.get(Client, rp.pk).security_event_uri = receiver.url
        db.session.commit()
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(ssf, rp.partner_id)
    assert ssf.deliver()["delivered"] == 1
    (delivery,) = receiver.deliveries
    assert "Authorization" not in delivery.headers
    claims = ssf.verified(delivery.body.decode(), rp.client_id)
    # The token partners have always received: both events in one SET, with ``sub``.
    assert set(claims["events"]) == {TOKEN_REVOKED, CONSENT_REVOKED} and claims["sub"]


def test_a_paused_stream_holds_events_and_delivers_them_on_resume(ssf, rp, receiver, member_id):
    token, stream_id = push_stream(ssf, rp, receiver)
    paused = ssf.call(
        "POST", "status_endpoint", token, {"stream_id": stream_id, "status": "paused"}
    )
    assert paused.status_code == 200
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(ssf, rp.partner_id)
    assert ssf.deliver()["delivered"] == 0 and receiver.deliveries == []
    with ssf.app.app_context():
        assert db.session.scalars(select(SsfEvent.held)).all() == [True, True]
    enabled = ssf.call(
        "POST", "status_endpoint", token, {"stream_id": stream_id, "status": "enabled"}
    )
    assert enabled.get_json()["status"] == "enabled"
    assert ssf.deliver()["delivered"] == 2
    types = {
        single_event(ssf.verified(d.body.decode(), rp.client_id))[0] for d in receiver.deliveries
    }
    assert types == {TOKEN_REVOKED, CONSENT_REVOKED}
    with ssf.app.app_context():
        assert db.session.scalars(select(SsfEvent)).all() == []


def test_a_disabled_stream_drops_events(ssf, rp, receiver, member_id):
    token, stream_id = push_stream(ssf, rp, receiver)
    ssf.call("POST", "status_endpoint", token, {"stream_id": stream_id, "status": "disabled"})
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(ssf, rp.partner_id)
    ssf.call("POST", "status_endpoint", token, {"stream_id": stream_id, "status": "enabled"})
    assert ssf.deliver()["delivered"] == 0 and receiver.deliveries == []
