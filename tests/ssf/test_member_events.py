"""CAEP and RISC events about a member, through the partner's stream (polled here).

Logout ends the session (CAEP ``session-revoked``), a profile change and Stop
sharing change the claims (CAEP ``token-claims-change``), account deletion
purges the account (RISC ``account-purged``). A client without a stream, with
only a ``security_event_uri``, gets none of the stream-only events.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, PartnerNotification
from tests.login_flow import csrf_token, post_form
from tests.oauth.test_stop_sharing import stop_sharing
from tests.ssf.conftest import (
    ACCOUNT_PURGED,
    SCOPE,
    SESSION_REVOKED,
    TOKEN_CLAIMS_CHANGE,
    single_event,
)
from tests.test_account_deletion import _delete
from tests.test_profile import GOOD

ALL_MEMBER_EVENTS = [SESSION_REVOKED, TOKEN_CLAIMS_CHANGE, ACCOUNT_PURGED]


def polled_events(ssf, rp, token) -> list[tuple[dict, str, dict]]:
    answer = ssf.poll(token, maxEvents=50)
    found = []
    for set_token in answer["sets"].values():
        claims = ssf.verified(set_token, rp.client_id)
        found.append((claims, *single_event(claims)))
    ssf.poll(token, maxEvents=0, ack=list(answer["sets"]))
    return found


def connected(ssf, rp, member_id) -> tuple[str, str]:
    """A poll stream asking for the member events, and the member connected to the partner."""
    token = ssf.access_token(rp)
    ssf.create(token, events_requested=ALL_MEMBER_EVENTS)
    sid = ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    return token, sid


def test_logout_sends_session_revoked(ssf, rp, member_id):
    token, sid = connected(ssf, rp, member_id)
    html = ssf.http.get("/logout").get_data(as_text=True)
    assert ssf.http.post("/logout", data={"csrf_token": csrf_token(html)}).status_code in (
        200,
        302,
        303,
    )
    ((claims, event_type, body),) = polled_events(ssf, rp, token)
    assert event_type == SESSION_REVOKED
    assert body["initiating_entity"] == "user" and body["event_timestamp"] <= claims["iat"]
    subject = claims["sub_id"]
    assert subject["format"] == "complex"
    assert subject["session"] == {"format": "opaque", "id": sid}
    assert subject["user"]["format"] == "iss_sub" and subject["user"]["sub"]


def test_a_profile_change_sends_token_claims_change_without_the_values(ssf, rp, member_id):
    token, _ = connected(ssf, rp, member_id)
    response = post_form(ssf.http, "/account/profile", GOOD)
    assert response.status_code == 303
    events = polled_events(ssf, rp, token)
    ((claims, event_type, body),) = events
    assert event_type == TOKEN_CLAIMS_CHANGE
    assert set(body["claims"]) == {"updated_at"}
    assert "given_name" in body["reason_admin"]["en"]
    assert "Katarzyna" not in str(claims)  # the values are read at UserInfo, counted


def test_stop_sharing_sends_token_claims_change_with_the_new_scope(ssf, rp, member_id):
    token, _ = connected(ssf, rp, member_id)
    assert stop_sharing(ssf, rp.partner_id, "email").status_code in (302, 303)
    ((_, event_type, body),) = polled_events(ssf, rp, token)
    assert event_type == TOKEN_CLAIMS_CHANGE
    assert "email" not in body["claims"]["scope"].split()


def test_account_deletion_sends_account_purged(ssf, rp, member_id):
    token, _ = connected(ssf, rp, member_id)
    response = _delete(ssf, member_id)
    assert "Your account has been deleted" in response.get_data(as_text=True)
    events = {
        event_type: (claims, body) for claims, event_type, body in polled_events(ssf, rp, token)
    }
    assert ACCOUNT_PURGED in events
    claims, body = events[ACCOUNT_PURGED]
    subject = claims["sub_id"]
    assert subject == body["subject"] and subject["format"] == "iss_sub"


def test_without_a_stream_the_security_event_uri_gets_no_new_events(ssf, rp, member_id):
    with ssf.app.app_context():
        db.session.get(Client, rp.pk).security_event_uri = "https://partner.example/events"
        db.session.commit()
    ssf.login(member_id)
    ssf.tokens(rp, scope=SCOPE)
    html = ssf.http.get("/logout").get_data(as_text=True)
    ssf.http.post("/logout", data={"csrf_token": csrf_token(html)})
    with ssf.app.app_context():
        assert db.session.scalars(select(PartnerNotification.kind)).all() == []
