"""Transmitter metadata and stream management (OpenID SSF 1.0 §7, §8.1.1) through the front door."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from idp.extensions import db
from idp.models import SsfStream
from idp.services.dynamic_registration import issue_initial_access_token
from tests.factories import make_partner
from tests.ssf.conftest import CONSENT_REVOKED, POLL, PUSH, TOKEN_REVOKED


def test_the_transmitter_metadata_names_what_is_implemented(ssf):
    metadata = ssf.metadata()
    issuer = "http://127.0.0.1:5000"
    assert metadata["spec_version"] == "1_0"
    assert metadata["issuer"] == issuer
    assert (
        metadata["jwks_uri"]
        == ssf.http.get("/.well-known/openid-configuration").get_json()["jwks_uri"]
    )
    assert metadata["delivery_methods_supported"] == [PUSH, POLL]
    assert metadata["configuration_endpoint"] == issuer + "/ssf/stream"
    assert metadata["status_endpoint"] == issuer + "/ssf/status"
    assert metadata["verification_endpoint"] == issuer + "/ssf/verify"
    assert metadata["authorization_schemes"] == [{"spec_urn": "urn:ietf:rfc:6749"}]
    assert metadata["default_subjects"] == "ALL"
    assert "add_subject_endpoint" not in metadata
    # Every endpoint it names is served.
    for name in ("configuration_endpoint", "status_endpoint", "verification_endpoint"):
        assert ssf.http.get(ssf.path(name)).status_code != 404


def test_create_read_update_replace_delete(ssf, rp):
    token = ssf.access_token(rp)
    created = ssf.create(
        token,
        delivery={"method": PUSH, "endpoint_url": "https://partner.example/ssf"},
        events_requested=[TOKEN_REVOKED, "https://example.com/unknown-event"],
        description="Sky Hotels receiver",
    )
    stream_id = created["stream_id"]
    assert created["iss"] == "http://127.0.0.1:5000" and created["aud"] == rp.client_id
    assert TOKEN_REVOKED in created["events_supported"]
    assert created["events_delivered"] == [TOKEN_REVOKED]
    assert created["delivery"] == {"method": PUSH, "endpoint_url": "https://partner.example/ssf"}
    assert created["min_verification_interval"] >= 1

    listed = ssf.call("GET", "configuration_endpoint", token)
    assert listed.status_code == 200 and listed.get_json() == [created]
    one = ssf.call("GET", "configuration_endpoint", token, stream_id=stream_id)
    assert one.get_json() == created

    patched = ssf.call(
        "PATCH",
        "configuration_endpoint",
        token,
        {"stream_id": stream_id, "events_requested": [TOKEN_REVOKED, CONSENT_REVOKED]},
    )
    assert patched.status_code == 200
    assert patched.get_json()["events_delivered"] == [TOKEN_REVOKED, CONSENT_REVOKED]
    assert patched.get_json()["description"] == "Sky Hotels receiver"  # untouched by PATCH

    # PUT replaces: what is not given takes its default (poll, nothing requested).
    current = patched.get_json()
    replaced = ssf.call("PUT", "configuration_endpoint", token, {**current, "events_requested": []})
    body = replaced.get_json()
    assert replaced.status_code == 200, body
    assert body["events_delivered"] == [] and body["description"] == "Sky Hotels receiver"
    replaced = ssf.call("PUT", "configuration_endpoint", token, {"stream_id": stream_id})
    assert replaced.get_json()["delivery"] == {
        "method": POLL,
        "endpoint_url": "http://127.0.0.1:5000/ssf/poll",
    }
    assert "description" not in replaced.get_json()

    deleted = ssf.call("DELETE", "configuration_endpoint", token, stream_id=stream_id)
    assert deleted.status_code == 204
    assert ssf.call("GET", "configuration_endpoint", token).get_json() == []
    gone = ssf.call("GET", "configuration_endpoint", token, stream_id=stream_id)
    assert gone.status_code == 404 and gone.get_json()["error"] == "not_found"


def test_a_stream_without_delivery_is_polled(ssf, rp):
    created = ssf.create(ssf.access_token(rp))
    assert created["delivery"]["method"] == POLL
    assert created["events_requested"] == [] and created["events_delivered"] == []


def test_one_stream_per_client(ssf, rp):
    token = ssf.access_token(rp)
    ssf.create(token)
    again = ssf.call("POST", "configuration_endpoint", token, {})
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"


def test_another_clients_stream_is_invisible(ssf, rp):
    mine = ssf.create(ssf.access_token(rp))
    other = ssf.client("Other Hotels", scope="openid profile", purposes=["registration"])
    theirs = ssf.access_token(other)
    assert ssf.call("GET", "configuration_endpoint", theirs).get_json() == []
    for method, kwargs in (
        ("GET", {"stream_id": mine["stream_id"]}),
        ("DELETE", {"stream_id": mine["stream_id"]}),
    ):
        response = ssf.call(method, "configuration_endpoint", theirs, **kwargs)
        assert response.status_code == 404, method
    patch = ssf.call(
        "PATCH",
        "configuration_endpoint",
        theirs,
        {"stream_id": mine["stream_id"], "description": "x"},
    )
    assert patch.status_code == 404
    status = ssf.call("GET", "status_endpoint", theirs, stream_id=mine["stream_id"])
    assert status.status_code == 404
    verify = ssf.call("POST", "verification_endpoint", theirs, {"stream_id": mine["stream_id"]})
    assert verify.status_code == 404
    with ssf.app.app_context():
        assert db.session.scalar(select(SsfStream.description)) is None


def test_the_receiver_must_be_authorized(ssf, rp, member_id):
    no_token = ssf.call("GET", "configuration_endpoint", None)
    assert no_token.status_code == 401 and "Bearer" in no_token.headers["WWW-Authenticate"]
    bad = ssf.call("GET", "configuration_endpoint", "not-a-token")
    assert bad.status_code == 401 and bad.get_json()["error"] == "invalid_token"
    # A token without SSF scopes, and a token issued for a member.
    bare = ssf.access_token(rp, scope="")
    refused = ssf.call("GET", "configuration_endpoint", bare)
    assert refused.status_code == 403 and refused.get_json()["error"] == "insufficient_scope"
    ssf.login(member_id)
    member_token = ssf.tokens(rp, scope="openid profile")["access_token"]
    assert ssf.call("GET", "configuration_endpoint", member_token).status_code == 401
    # ssf.read reads and polls, but changes nothing.
    reader = ssf.access_token(rp, scope="ssf.read")
    assert ssf.call("GET", "configuration_endpoint", reader).status_code == 200
    write = ssf.call("POST", "configuration_endpoint", reader, {})
    assert write.status_code == 403 and write.get_json()["scope"] == "ssf.manage"


BAD_CONFIGURATIONS = [
    ("not an object", ["delivery"]),
    ("delivery not an object", {"delivery": "push"}),
    ("unknown method", {"delivery": {"method": "urn:example:carrier-pigeon"}}),
    ("push without URL", {"delivery": {"method": PUSH}}),
    (
        "push to plain http",
        {"delivery": {"method": PUSH, "endpoint_url": "http://partner.example/"}},
    ),
    ("push URL not text", {"delivery": {"method": PUSH, "endpoint_url": 7}}),
    (
        "push URL with fragment",
        {"delivery": {"method": PUSH, "endpoint_url": "https://p.example/#x"}},
    ),
    (
        "header with a line break",
        {
            "delivery": {
                "method": PUSH,
                "endpoint_url": "https://p.example/",
                "authorization_header": "Bearer a\r\nX-Evil: 1",
            }
        },
    ),
    ("poll elsewhere", {"delivery": {"method": POLL, "endpoint_url": "https://p.example/poll"}}),
    ("events not a list", {"events_requested": TOKEN_REVOKED}),
    ("event not text", {"events_requested": [1]}),
    ("too many events", {"events_requested": [f"https://e.example/{i}" for i in range(51)]}),
    ("description not text", {"description": {"en": "x"}}),
    ("description too long", {"description": "x" * 501}),
]


@pytest.mark.parametrize(
    ("case", "body"), BAD_CONFIGURATIONS, ids=[c for c, _ in BAD_CONFIGURATIONS]
)
def test_bad_configurations_are_400_and_write_nothing(ssf, rp, case, body):
    token = ssf.access_token(rp)
    response = ssf.call("POST", "configuration_endpoint", token, body)
    assert response.status_code == 400, case
    assert response.get_json()["error"] == "invalid_request"
    with ssf.app.app_context():
        assert db.session.scalar(select(func.count(SsfStream.id))) == 0


def test_bad_changes_are_400_and_change_nothing(ssf, rp):
    token = ssf.access_token(rp)
    created = ssf.create(token, description="kept")
    stream_id = created["stream_id"]
    for method, body in (
        ("PATCH", {"description": "no stream id"}),
        ("PATCH", {"stream_id": stream_id, "aud": "someone-else"}),
        ("PUT", {"stream_id": stream_id, "iss": "https://elsewhere.example"}),
        ("PUT", {"stream_id": stream_id, "events_delivered": [TOKEN_REVOKED]}),
        ("PATCH", {"stream_id": stream_id, "description": "new", "delivery": {"method": "x"}}),
        ("PATCH", {"stream_id": 5}),
    ):
        response = ssf.call(method, "configuration_endpoint", token, body)
        assert response.status_code == 400, body
        assert response.get_json()["error"] == "invalid_request"
    assert ssf.call("GET", "configuration_endpoint", token).get_json() == [created]
    not_json = ssf.http.post(
        ssf.path("configuration_endpoint"),
        data="description=x",
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert not_json.status_code == 400 and not_json.get_json()["error"] == "invalid_request"
    no_id = ssf.call("DELETE", "configuration_endpoint", token)
    assert no_id.status_code == 400


def test_the_authorization_header_is_stored_encrypted_and_never_shown(ssf, rp):
    token = ssf.access_token(rp)
    created = ssf.create(
        token,
        delivery={
            "method": PUSH,
            "endpoint_url": "https://partner.example/ssf",
            "authorization_header": "Bearer receiver-secret",
        },
    )
    assert "authorization_header" not in created["delivery"]
    with ssf.app.app_context():
        raw = db.session.execute(text("SELECT authorization_header FROM ssf_streams")).scalar()
        assert "receiver-secret" not in raw
        assert db.session.scalar(select(SsfStream.authorization_header)) == "Bearer receiver-secret"


def test_status_is_read_and_set(ssf, rp):
    token = ssf.access_token(rp)
    stream_id = ssf.create(token)["stream_id"]
    read = ssf.call("GET", "status_endpoint", token, stream_id=stream_id)
    assert read.status_code == 200 and read.get_json() == {
        "stream_id": stream_id,
        "status": "enabled",
    }
    paused = ssf.call(
        "POST",
        "status_endpoint",
        token,
        {"stream_id": stream_id, "status": "paused", "reason": "maintenance"},
    )
    assert paused.get_json() == {
        "stream_id": stream_id,
        "status": "paused",
        "reason": "maintenance",
    }
    for body in (
        {"stream_id": stream_id, "status": "asleep"},
        {"stream_id": stream_id},
        {"stream_id": stream_id, "status": "enabled", "reason": 3},
        {"status": "enabled"},
    ):
        response = ssf.call("POST", "status_endpoint", token, body)
        assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert (
        ssf.call("GET", "status_endpoint", token, stream_id=stream_id).get_json()["status"]
        == "paused"
    )
    missing = ssf.call("GET", "status_endpoint", token, stream_id="0" * 32)
    assert missing.status_code == 404


def test_a_client_deleted_over_rfc_7592_loses_its_stream(ssf):
    with ssf.app.app_context():
        initial = issue_initial_access_token(make_partner("Retiring Hotels").id)
    registered = ssf.http.post(
        "/oauth/register",
        json={
            "client_name": "Retiring Hotels",
            "redirect_uris": ["https://retiring.example/cb"],
            "scope": "openid email",
            "grant_types": ["authorization_code", "client_credentials"],
        },
        headers={"Authorization": f"Bearer {initial}"},
    ).get_json()
    answer = ssf.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "ssf.manage"},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    token = answer.get_json()["access_token"]
    ssf.create(token)
    uri = registered["registration_client_uri"].removeprefix("http://127.0.0.1:5000")
    bearer = {"Authorization": f"Bearer {registered['registration_access_token']}"}
    assert ssf.http.delete(uri, headers=bearer).status_code == 204
    with ssf.app.app_context():
        assert db.session.scalar(select(func.count(SsfStream.id))) == 0
