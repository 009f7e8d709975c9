"""private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9)."""

from __future__ import annotations

import secrets
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.oauth.conftest import ISSUER

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def assertion(rp, key, alg="RS256", **overrides):
    now = int(time.time())
    claims = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": f"{ISSUER}/oauth/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(16),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def with_assertion(value):
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": value}


def test_private_key_jwt_authenticates_the_token_request(oauth, jwt_rp, client_key, member_id):
    assert jwt_rp.secret is None
    oauth.login(member_id)
    code, _ = oauth.code(jwt_rp)
    response = oauth.exchange(
        jwt_rp, code, headers={"X": "1"}, **with_assertion(assertion(jwt_rp, client_key))
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id_token"]


def test_issuer_is_an_accepted_audience(oauth, jwt_rp, client_key):
    response = oauth.token(
        jwt_rp,
        headers={"X": "1"},
        grant_type="client_credentials",
        **with_assertion(assertion(jwt_rp, client_key, aud=ISSUER)),
    )
    assert response.status_code == 200, response.get_json()


def test_an_assertion_is_accepted_once(oauth, jwt_rp, client_key):
    value = assertion(jwt_rp, client_key)
    form = dict(grant_type="client_credentials", **with_assertion(value))
    assert oauth.token(jwt_rp, headers={"X": "1"}, **form).status_code == 200
    again = oauth.token(jwt_rp, headers={"X": "1"}, **form)
    assert again.status_code == 401
    assert again.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://elsewhere.example/token"},
        {"exp": None},
        {"exp": int(time.time()) - 3600},
        {"jti": None},
        {"iss": "someone-else"},
        {"jti": "x" * 300},
    ],
)
def test_bad_assertions_are_invalid_client(oauth, jwt_rp, client_key, overrides):
    value = assertion(jwt_rp, client_key, **overrides)
    response = oauth.token(
        jwt_rp, headers={"X": "1"}, grant_type="client_credentials", **with_assertion(value)
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_assertion_signed_with_another_key_is_invalid_client(oauth, jwt_rp):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "client-1"}, private=True)
    response = oauth.token(
        jwt_rp,
        headers={"X": "1"},
        grant_type="client_credentials",
        **with_assertion(assertion(jwt_rp, stranger)),
    )
    assert response.status_code == 401


@pytest.mark.parametrize("value", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOjF9."])
def test_malformed_assertions_are_invalid_client(oauth, jwt_rp, value):
    response = oauth.token(
        jwt_rp, headers={"X": "1"}, grant_type="client_credentials", **with_assertion(value)
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_a_secret_client_cannot_use_an_assertion(oauth, rp, client_key):
    response = oauth.token(
        rp,
        headers={"X": "1"},
        grant_type="client_credentials",
        **with_assertion(assertion(rp, client_key)),
    )
    assert response.status_code == 401


def test_es256_client_keys(oauth):
    key = ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True)
    rp = oauth.client(
        scope="openid",
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [key.as_dict(private=False)]},
    )
    response = oauth.token(
        rp,
        headers={"X": "1"},
        grant_type="client_credentials",
        **with_assertion(assertion(rp, key, alg="ES256")),
    )
    assert response.status_code == 200, response.get_json()


def test_keys_from_jwks_uri(oauth, client_key, monkeypatch):
    from idp.oauth import client_auth

    uri = "https://keys.partner.example/jwks.json"
    fetched = []

    class Reply:
        def raise_for_status(self):
            return None

        def json(self):
            return {"keys": [client_key.as_dict(private=False)]}

    def fake_get(url, **kwargs):
        fetched.append(url)
        return Reply()

    monkeypatch.setattr(client_auth.requests, "get", fake_get)
    monkeypatch.setattr(client_auth, "_jwks_cache", {})
    rp = oauth.client(scope="openid", token_endpoint_auth_method="private_key_jwt", jwks_uri=uri)
    for _ in range(2):
        response = oauth.token(
            rp,
            headers={"X": "1"},
            grant_type="client_credentials",
            **with_assertion(assertion(rp, client_key)),
        )
        assert response.status_code == 200, response.get_json()
    assert fetched == [uri]  # cached


def test_unreachable_jwks_uri_is_invalid_client(oauth, client_key, monkeypatch):
    from idp.oauth import client_auth

    def failing_get(url, **kwargs):
        raise client_auth.requests.ConnectionError("down")

    monkeypatch.setattr(client_auth.requests, "get", failing_get)
    monkeypatch.setattr(client_auth, "_jwks_cache", {})
    rp = oauth.client(
        scope="openid",
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri="https://keys.partner.example/jwks.json",
    )
    response = oauth.token(
        rp,
        headers={"X": "1"},
        grant_type="client_credentials",
        **with_assertion(assertion(rp, client_key)),
    )
    assert response.status_code == 401
