"""RISC ``account-disabled`` and ``account-enabled`` through the partner's stream.

An operator disables the account (``mam-idp members disable``): each client
with a standing consent and a stream gets RISC 1.0 §2.3 ``account-disabled``,
polled (RFC 8936) or pushed (RFC 8935) to the receiver in the test, every SET
verified against the JWKS the transmitter metadata names; enabling it sends
§2.4 ``account-enabled``.
"""

from __future__ import annotations

import json

from tests.ssf.conftest import POLL, SCOPE, SESSION_REVOKED, single_event
from tests.ssf.test_member_events import polled_events
from tests.ssf.test_push import push_stream

ACCOUNT_DISABLED = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
ACCOUNT_ENABLED = "https://schemas.openid.net/secevent/risc/event-type/account-enabled"
STATUS_EVENTS = [ACCOUNT_DISABLED, ACCOUNT_ENABLED]


def members_command(ssf, *args) -> dict:
    result = ssf.app.test_cli_runner().invoke(args=["members", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def consented(ssf, rp, member_id) -> dict:
    ssf.login(member_id)
    return ssf.tokens(rp, scope=SCOPE)


def test_a_stream_supports_and_delivers_the_events(ssf, rp):
    stream = ssf.create(ssf.access_token(rp), events_requested=STATUS_EVENTS)
    assert set(STATUS_EVENTS) <= set(stream["events_supported"])
    assert set(stream["events_delivered"]) == set(STATUS_EVENTS)


def test_disabling_is_polled_with_the_risc_reason(ssf, rp, member_id):
    token = ssf.access_token(rp)
    ssf.create(token, events_requested=[*STATUS_EVENTS, SESSION_REVOKED])
    body = consented(ssf, rp, member_id)
    done = members_command(ssf, "disable", member_id, "--reason", "hijacking")
    assert done["partners_notified"] == 1

    found = {
        event_type: (claims, event) for claims, event_type, event in polled_events(ssf, rp, token)
    }
    assert set(found) == {ACCOUNT_DISABLED, SESSION_REVOKED}
    claims, event = found[ACCOUNT_DISABLED]
    assert event["reason"] == "hijacking"
    assert event["subject"] == claims["sub_id"] and claims["sub_id"]["format"] == "iss_sub"
    assert event["event_timestamp"] <= claims["iat"]
    # The tokens the partner holds are dead at UserInfo.
    answer = ssf.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert answer.status_code == 401

    enabled = members_command(ssf, "enable", member_id)
    assert enabled["partners_notified"] == 1
    ((claims, event_type, event),) = polled_events(ssf, rp, token)
    assert event_type == ACCOUNT_ENABLED
    assert event["subject"] == claims["sub_id"] and "reason" not in event


def test_disabling_is_pushed_to_the_receiver_signed(ssf, rp, receiver, member_id):
    push_stream(ssf, rp, receiver, events_requested=STATUS_EVENTS)
    consented(ssf, rp, member_id)
    members_command(ssf, "disable", member_id, "--reason", "bulk-account")
    assert ssf.deliver()["delivered"] == 1
    (delivery,) = receiver.deliveries
    assert delivery.content_type == "application/secevent+jwt"
    claims = ssf.verified(delivery.body.decode(), rp.client_id)
    event_type, event = single_event(claims)
    assert event_type == ACCOUNT_DISABLED and event["reason"] == "bulk-account"
    assert claims["sub_id"]["format"] == "iss_sub" and "sub" not in claims

    members_command(ssf, "enable", member_id)
    assert ssf.deliver()["delivered"] == 1
    enabled = ssf.verified(receiver.deliveries[1].body.decode(), rp.client_id)
    assert single_event(enabled)[0] == ACCOUNT_ENABLED
    assert enabled["sub_id"] == claims["sub_id"]


def test_another_reason_is_sent_without_one(ssf, rp, member_id):
    token = ssf.access_token(rp)
    ssf.create(token, events_requested=STATUS_EVENTS)
    consented(ssf, rp, member_id)
    members_command(ssf, "disable", member_id, "--reason", "other")
    ((_, event_type, event),) = polled_events(ssf, rp, token)
    assert event_type == ACCOUNT_DISABLED and "reason" not in event


def test_a_partner_without_a_consent_hears_nothing(ssf, rp, member_id):
    token = ssf.access_token(rp)
    stream = ssf.create(token, events_requested=STATUS_EVENTS)
    assert stream["delivery"]["method"] == POLL
    ssf.login(member_id)  # logged in, but never connected to this partner
    done = members_command(ssf, "disable", member_id, "--reason", "hijacking")
    assert done["partners_notified"] == 0
    assert polled_events(ssf, rp, token) == []
