"""CORS for browser-based public clients: registered redirect URI origins only, never cookies."""

from __future__ import annotations

import secrets

import pytest

from idp.cors import origin_of
from tests.oauth.conftest import OAuth


@pytest.fixture
def spa(app, client):
    """A public client whose redirect URI is on an origin of its own."""
    origin = f"https://spa-{secrets.token_hex(4)}.example:8443"
    oauth = OAuth(app, client)
    rp = oauth.client(
        redirect_uris=[f"{origin}/callback"],
        token_endpoint_auth_method="none",
        scope="openid",
    )
    return origin, rp


def preflight(client, path, origin, method="POST", headers="authorization, content-type"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/oauth/token", "POST"),
        ("/oauth/par", "POST"),
        ("/oauth/userinfo", "GET, POST"),
        ("/oauth/revoke", "POST"),
    ],
)
def test_a_registered_origin_may_call_the_partner_endpoints(client, spa, path, methods):
    origin, _ = spa
    answer = preflight(client, path, origin)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert answer.headers["Access-Control-Allow-Methods"] == methods
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "dpop"}
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_the_token_answer_is_readable_by_the_registered_origin(client, spa):
    origin, rp = spa
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "nope", "client_id": rp.client_id},
        headers={"Origin": origin},
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    userinfo = client.get("/oauth/userinfo", headers={"Origin": origin})
    assert userinfo.status_code == 401
    assert userinfo.headers["Access-Control-Allow-Origin"] == origin
    assert "WWW-Authenticate" in userinfo.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://spa.example.evil.example",
        "http://{host}",  # the right host over another scheme
        "https://{host}",  # the right host on another port
        "https://{host}:8443/callback",  # not an origin
    ],
)
def test_other_origins_are_refused(client, spa, origin):
    registered, _ = spa
    host = registered.split("://")[1].split(":")[0]
    origin = origin.format(host=host)
    for answer in (
        preflight(client, "/oauth/token", origin),
        client.post("/oauth/token", data={}, headers={"Origin": origin}),
    ):
        assert "Access-Control-Allow-Origin" not in answer.headers
        assert "Access-Control-Allow-Methods" not in answer.headers
        assert "Origin" in answer.headers["Vary"]


def test_introspection_is_not_for_browsers(client, spa):
    origin, _ = spa
    for answer in (
        preflight(client, "/oauth/introspect", origin),
        client.post("/oauth/introspect", data={}, headers={"Origin": origin}),
    ):
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_pages_get_no_cors(client, spa):
    origin, _ = spa
    for path in ("/login", "/oauth/authorize", "/healthz", "/metrics"):
        assert (
            "Access-Control-Allow-Origin"
            not in client.get(path, headers={"Origin": origin}).headers
        )


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/oauth/jwks.json"])
def test_public_documents_are_readable_from_anywhere(client, path):
    answer = client.get(path, headers={"Origin": "https://anyone.example"})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    check = preflight(client, path, "https://anyone.example", method="GET", headers="")
    assert check.headers["Access-Control-Allow-Origin"] == "*"
    assert check.headers["Access-Control-Allow-Methods"] == "GET"


def test_a_new_client_is_allowed_at_once(app, client, spa):
    origin, _ = spa
    assert preflight(client, "/oauth/token", origin).headers["Access-Control-Allow-Origin"]
    later = f"https://later-{secrets.token_hex(4)}.example"
    assert "Access-Control-Allow-Origin" not in preflight(client, "/oauth/token", later).headers
    OAuth(app, client).client(redirect_uris=[f"{later}/cb"], token_endpoint_auth_method="none")
    assert preflight(client, "/oauth/token", later).headers["Access-Control-Allow-Origin"] == later


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://App.Example/cb?x=1", "https://app.example"),
        ("https://app.example:443/cb", "https://app.example"),
        ("http://127.0.0.1:8080/cb", "http://127.0.0.1:8080"),
        ("https://[::1]:9000/cb", "https://[::1]:9000"),
        ("com.example.app:/callback", None),
        ("https://app.example:99999/cb", None),
        ("https:///cb", None),
    ],
)
def test_origins_of_redirect_uris(url, origin):
    assert origin_of(url) == origin
