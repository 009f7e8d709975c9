"""Poll delivery (RFC 8936): SETs wait until acknowledged; ``moreAvailable``; long polling."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, SsfStream
from idp.services import ssf_poll
from tests.oauth.test_withdrawal import revoke_from_connected_apps
from tests.ssf.conftest import CONSENT_REVOKED, SCOPE, TOKEN_REVOKED, VERIFICATION, single_event


def poll_stream(ssf, rp) -> tuple[str, str]:
    token = ssf.access_token(rp)
    stream = ssf.create(token, events_requested=[TOKEN_REVOKED, CONSENT_REVOKED])
    return token, stream["stream_id"]


def withdraw(ssf, rp, member_id):
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(ssf, rp.partner_id)


def test_events_wait_until_acknowledged(ssf, rp, member_id):
    token, _ = poll_stream(ssf, rp)
    assert ssf.poll(token) == {"sets": {}, "moreAvailable": False}
    withdraw(ssf, rp, member_id)
    assert ssf.deliver()["delivered"] == 0  # nothing is pushed

    first = ssf.poll(token, maxEvents=1)
    assert first["moreAvailable"] is True and len(first["sets"]) == 1
    ((jti, token_one),) = first["sets"].items()
    claims = ssf.verified(token_one, rp.client_id)
    assert claims["jti"] == jti
    # Not acknowledged: the same SET again, with the same jti.
    assert ssf.poll(token, maxEvents=1)["sets"].keys() == {jti}

    rest = ssf.poll(token, maxEvents=10, ack=[jti])
    assert rest["moreAvailable"] is False and len(rest["sets"]) == 1
    (other_jti,) = rest["sets"]
    types = {
        single_event(claims)[0],
        single_event(ssf.verified(rest["sets"][other_jti], rp.client_id))[0],
    }
    assert types == {TOKEN_REVOKED, CONSENT_REVOKED}

    # maxEvents 0 only acknowledges.
    assert ssf.poll(token, maxEvents=0, ack=[other_jti]) == {"sets": {}, "moreAvailable": False}
    assert ssf.poll(token) == {"sets": {}, "moreAvailable": False}


def test_set_errors_acknowledge_and_are_kept_for_the_operators(ssf, rp, member_id):
    token, _ = poll_stream(ssf, rp)
    withdraw(ssf, rp, member_id)
    sets = ssf.poll(token)["sets"]
    jtis = sorted(sets)
    errors = {jtis[0]: {"err": "invalid_key", "description": "Key not found"}}
    after = ssf.poll(token, ack=[jtis[1]], setErrs=errors)
    assert after == {"sets": {}, "moreAvailable": False}
    with ssf.app.app_context():
        stream = db.session.scalar(select(SsfStream))
        assert stream.last_receiver_error == "invalid_key: Key not found"
        assert stream.last_polled_at is not None
        assert db.session.scalar(
            select(AuditEvent.event).where(AuditEvent.event == "ssf.set_errors")
        )


def test_a_paused_poll_stream_holds_its_events(ssf, rp, member_id):
    token, stream_id = poll_stream(ssf, rp)
    ssf.call("POST", "status_endpoint", token, {"stream_id": stream_id, "status": "paused"})
    withdraw(ssf, rp, member_id)
    assert ssf.poll(token) == {"sets": {}, "moreAvailable": False}
    ssf.call("POST", "status_endpoint", token, {"stream_id": stream_id, "status": "enabled"})
    assert len(ssf.poll(token)["sets"]) == 2


def test_verification_through_a_poll_stream(ssf, rp):
    token, stream_id = poll_stream(ssf, rp)
    assert (
        ssf.call(
            "POST", "verification_endpoint", token, {"stream_id": stream_id, "state": "s1"}
        ).status_code
        == 204
    )
    ((jti, set_token),) = ssf.poll(token)["sets"].items()
    assert single_event(ssf.verified(set_token, rp.client_id)) == (VERIFICATION, {"state": "s1"})


def test_long_polling_waits_a_bounded_time(ssf, rp, monkeypatch):
    monkeypatch.setattr(ssf_poll, "LONG_POLL_SECONDS", 0.6)
    token, _ = poll_stream(ssf, rp)
    started = time.monotonic()
    assert ssf.poll(token, returnImmediately=False) == {"sets": {}, "moreAvailable": False}
    assert 0.5 <= time.monotonic() - started < 5


def test_another_clients_events_are_neither_polled_nor_acknowledged(ssf, rp, member_id):
    token, _ = poll_stream(ssf, rp)
    withdraw(ssf, rp, member_id)
    jtis = list(ssf.poll(token)["sets"])
    other = ssf.client("Other Hotels", scope="openid profile", purposes=["registration"])
    theirs = ssf.access_token(other)
    ssf.create(theirs)
    assert ssf.poll(theirs, ack=jtis) == {"sets": {}, "moreAvailable": False}
    assert sorted(ssf.poll(token)["sets"]) == sorted(jtis)


BAD_POLLS = [
    ["not", "an", "object"],
    {"maxEvents": -1},
    {"maxEvents": "10"},
    {"maxEvents": True},
    {"returnImmediately": "yes"},
    {"ack": "jti"},
    {"ack": [1]},
    {"ack": ["x" * 65]},
    {"setErrs": []},
    {"setErrs": {"jti": "broken"}},
    {"setErrs": {"jti": {"err": 5}}},
]


@pytest.mark.parametrize("body", BAD_POLLS, ids=[str(i) for i in range(len(BAD_POLLS))])
def test_bad_poll_requests_are_400(ssf, rp, body):
    token, _ = poll_stream(ssf, rp)
    response = ssf.http.post("/ssf/poll", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, body
    assert response.get_json()["error"] == "invalid_request"


def test_polling_needs_a_poll_stream_and_a_token(ssf, rp):
    assert ssf.http.post("/ssf/poll", json={}).status_code == 401
    token = ssf.access_token(rp, scope="ssf.read")
    response = ssf.http.post("/ssf/poll", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
