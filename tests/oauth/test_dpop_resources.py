"""DPoP-bound tokens at UserInfo and the miles API (RFC 9449 §7, §9), revocation, CORS.

The holder of the key gets the data; whoever copied the token does not: not
as a bearer token (§7.2), not with a proof of their own key, and not with the
holder's proof for another request (its method, URL or access token).
"""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.models import Member
from idp.services.registration import get_client
from tests.dpop_proofs import MILES_URL, TOKEN_URL, USERINFO_URL, DPoPKey
from tests.factories import issue_token

SCOPE = "openid email card_number miles status"


@pytest.fixture
def key():
    return DPoPKey.ec()


@pytest.fixture
def bound(oauth, member_id, rp, key) -> str:
    """An access token of ``rp`` for the member, bound to ``key``."""
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        return issue_token(member, get_client(rp.client_id), SCOPE, dpop_jkt=key.jkt).access_token


def call(oauth, path, url, token, key, method="GET", scheme="DPoP", **proof_args):
    headers = {"Authorization": f"{scheme} {token}"}
    if key is not None:
        proof_args.setdefault("access_token", token)
        headers["DPoP"] = key.proof(method, url, **proof_args)
    return oauth.http.open(path, method=method, headers=headers)


ENDPOINTS = [("/oauth/userinfo", USERINFO_URL), ("/api/v1/me/miles", MILES_URL)]


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_the_key_holder_gets_the_data(oauth, bound, key, path, url):
    response = call(oauth, path, url, bound, key)
    assert response.status_code == 200, response.get_json()
    assert response.headers["DPoP-Nonce"]


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_a_stolen_token_as_a_bearer_token_is_refused(oauth, bound, path, url):
    response = call(oauth, path, url, bound, None, scheme="Bearer")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("DPoP ")
    assert 'error="invalid_token"' in challenge
    assert 'algs="ES256 ES384 PS256 RS256 Ed25519 EdDSA"' in challenge


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_a_stolen_token_with_the_thiefs_own_key_is_refused(oauth, bound, path, url):
    response = call(oauth, path, url, bound, DPoPKey.ec())
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("DPoP ")


@pytest.mark.parametrize(("path", "url"), ENDPOINTS)
def test_the_dpop_scheme_without_a_proof_is_refused(oauth, bound, path, url):
    response = call(oauth, path, url, bound, None)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("name", ["another htu", "another htm", "another token", "no ath"])
def test_the_holders_proof_for_another_request_is_refused(oauth, bound, key, name):
    proof = {
        "another htu": lambda: key.proof("GET", TOKEN_URL, access_token=bound),
        "another htm": lambda: key.proof("POST", USERINFO_URL, access_token=bound),
        "another token": lambda: key.proof("GET", USERINFO_URL, access_token="another-token"),
        "no ath": lambda: key.proof("GET", USERINFO_URL),
    }[name]()
    response = oauth.http.get(
        "/oauth/userinfo", headers={"Authorization": f"DPoP {bound}", "DPoP": proof}
    )
    assert response.status_code == 401, name
    assert response.get_json()["error"] == "invalid_dpop_proof", name
    assert 'error="invalid_dpop_proof"' in response.headers["WWW-Authenticate"]


def test_a_miles_proof_does_not_open_userinfo(oauth, bound, key):
    headers = {
        "Authorization": f"DPoP {bound}",
        "DPoP": key.proof("GET", MILES_URL, access_token=bound),
    }
    response = oauth.http.get("/oauth/userinfo", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_dpop_proof"


def test_a_proof_is_accepted_once_at_a_resource(oauth, bound, key):
    headers = {
        "Authorization": f"DPoP {bound}",
        "DPoP": key.proof("GET", USERINFO_URL, access_token=bound),
    }
    assert oauth.http.get("/oauth/userinfo", headers=headers).status_code == 200
    replayed = oauth.http.get("/oauth/userinfo", headers=headers)
    assert replayed.status_code == 401
    assert replayed.get_json()["error"] == "invalid_dpop_proof"


def test_a_bearer_token_under_the_dpop_scheme_is_refused(oauth, member_id, rp, key):
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        token = issue_token(member, get_client(rp.client_id), SCOPE).access_token
    response = call(oauth, "/oauth/userinfo", USERINFO_URL, token, key)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    # The same token as a bearer token still works.
    assert (
        call(oauth, "/oauth/userinfo", USERINFO_URL, token, None, scheme="Bearer").status_code
        == 200
    )


def test_no_token_is_told_of_both_schemes(oauth):
    response = oauth.http.get("/api/v1/me/miles")
    assert response.status_code == 401
    challenges = response.headers.getlist("WWW-Authenticate")
    assert challenges[0].startswith("Bearer ")
    assert 'error="invalid_token"' in challenges[0]
    assert any(c.startswith("DPoP ") and "algs=" in c for c in challenges)


def test_a_revoked_bound_token_is_refused(oauth, bound, key, rp):
    revoked = oauth.http.post("/oauth/revoke", data={"token": bound}, headers=rp.basic())
    assert revoked.status_code == 200
    response = call(oauth, "/oauth/userinfo", USERINFO_URL, bound, key)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


# -- server nonces at resources (§9) --------------------------------------------------------


@pytest.fixture
def nonces_required(app):
    settings = app.config["IDP"]
    app.config["IDP"] = type(settings)(**{**settings.__dict__, "dpop_nonce_required": True})
    yield
    app.config["IDP"] = settings


def test_a_required_nonce_round_trip_at_userinfo(oauth, bound, key, nonces_required):
    first = call(oauth, "/oauth/userinfo", USERINFO_URL, bound, key)
    assert first.status_code == 401
    assert first.get_json()["error"] == "use_dpop_nonce"
    assert 'error="use_dpop_nonce"' in first.headers["WWW-Authenticate"]
    nonce = first.headers["DPoP-Nonce"]
    second = call(oauth, "/oauth/userinfo", USERINFO_URL, bound, key, nonce=nonce)
    assert second.status_code == 200, second.get_json()


# -- CORS (browser-based public clients) -----------------------------------------------------


def test_cors_allows_the_dpop_header_and_exposes_the_nonce(oauth, member_id, rp):
    origin = "https://partner.example"
    preflight = oauth.http.options(
        "/oauth/token",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "dpop, content-type",
        },
    )
    assert "DPoP" in preflight.headers["Access-Control-Allow-Headers"]
    answer = oauth.http.get("/oauth/userinfo", headers={"Origin": origin})
    assert "DPoP-Nonce" in answer.headers["Access-Control-Expose-Headers"]


# -- the replay cache unreachable --------------------------------------------------------


@pytest.fixture
def redis_gone(app):
    """The replay cache in a Redis nobody listens for (port 1 on this machine)."""
    settings = app.config["IDP"]
    app.config["IDP"] = type(settings)(
        **{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"}
    )
    yield
    app.config["IDP"] = settings


def test_no_proof_is_accepted_while_the_replay_cache_is_unreachable(
    oauth, bound, key, rp, redis_gone
):
    response = call(oauth, "/oauth/userinfo", USERINFO_URL, bound, key)
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"
    token = oauth.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={**rp.basic(), "DPoP": key.proof("POST", TOKEN_URL)},
    )
    assert token.status_code == 503
    assert token.get_json()["error"] == "temporarily_unavailable"
