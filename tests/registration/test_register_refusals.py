"""Every bad registration is refused with the RFC 7591 §3.2.2 (or RFC 6750) error, and writes nothing."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey
from sqlalchemy import update

from idp.extensions import db
from idp.models import InitialAccessToken
from idp.models.types import utcnow
from tests.registration.conftest import counts, metadata

RSA_PUBLIC = RSAKey.generate_key(2048, parameters={"kid": "a"}).as_dict(private=False)
RSA_PRIVATE = RSAKey.generate_key(2048).as_dict(private=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # joserfc warns of the short key this test wants
    SMALL_RSA = RSAKey.generate_key(1024).as_dict(private=False)
EC_P384 = ECKey.generate_key("P-384").as_dict(private=False)
OCT = OctKey.generate_key(256).as_dict()
PKJ = {"token_endpoint_auth_method": "private_key_jwt"}

BAD_REDIRECTS = [
    {"redirect_uris": ["http://shop.example/cb"]},
    {"redirect_uris": ["https://shop.example/cb#fragment"]},
    {"redirect_uris": ["/relative"]},
    {"redirect_uris": ["javascript:alert(1)"]},
    {"redirect_uris": ["https://"]},
    {"redirect_uris": ["https://shop.example/a b"]},
    {"redirect_uris": ["https://shop.example:notaport/cb"]},
    {"redirect_uris": []},
    {"redirect_uris": ["https://shop.example/" + "x" * 2100]},
    {"redirect_uris": [f"https://shop.example/{i}" for i in range(21)]},
    {"post_logout_redirect_uris": ["http://shop.example/bye"]},
    {"redirect_uris": "https://shop.example/cb"},
    {"redirect_uris": [1]},
]

BAD_METADATA = [
    ({"client_name": None}, "no name"),
    ({"client_name": "   "}, "blank name"),
    ({"client_name": "x" * 201}, "long name"),
    ({"client_name": 5}, "name not a string"),
    ({"scope": "profile email"}, "no openid"),
    ({"scope": "openid everything"}, "unknown scope"),
    ({"scope": ["openid"]}, "scope not a string"),
    ({"scope": "openid profile", "purposes": ["miles"]}, "purpose does not cover"),
    ({"purposes": ["shopping"]}, "unknown purpose"),
    ({"purposes": "miles"}, "purposes not an array"),
    ({"token_endpoint_auth_method": "magic"}, "unknown method"),
    ({"token_endpoint_auth_method": "client_secret_jwt"}, "unsupported method"),
    ({"grant_types": ["password"]}, "password grant"),
    ({"grant_types": ["implicit"]}, "implicit"),
    ({"grant_types": []}, "no grant type"),
    ({"grant_types": ["refresh_token"]}, "refresh without code"),
    ({"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}, "public cc"),
    ({"response_types": ["token"]}, "implicit response"),
    ({"response_types": ["code id_token"]}, "hybrid"),
    ({"response_types": [], "grant_types": ["authorization_code"]}, "code grant no response"),
    ({"access_token_ttl": 0}, "zero lifetime"),
    ({"access_token_ttl": "3600"}, "lifetime as a string"),
    ({"access_token_ttl": 1.5}, "fractional lifetime"),
    ({"access_token_ttl": True}, "boolean lifetime"),
    ({"grant_ttl": 10**12}, "grant period too long"),
    ({"id_token_signed_response_alg": "none"}, "unsigned ID tokens"),
    ({"id_token_signed_response_alg": "HS256"}, "symmetric ID tokens"),
    ({"logo_uri": "http://shop.example/logo.png"}, "http logo"),
    ({"logo_uri": "http://127.0.0.1/logo.png"}, "loopback logo is still not https"),
    ({"policy_uri": "ftp://shop.example/p"}, "ftp policy"),
    ({"tos_uri": "https://shop.example/t#x"}, "tos with fragment"),
    ({"client_uri": "data:text/html,x"}, "data client uri"),
    ({"backchannel_logout_uri": "http://shop.example/bcl"}, "http back-channel"),
    ({"security_event_uri": "shop.example/events"}, "relative events"),
    ({"backchannel_logout_session_required": "yes"}, "not a boolean"),
    ({"jwks_uri": "http://shop.example/keys", **PKJ}, "http jwks_uri"),
    ({**PKJ}, "private_key_jwt without keys"),
    ({"jwks": {"keys": [RSA_PUBLIC]}, "jwks_uri": "https://shop.example/k", **PKJ}, "both"),
    ({"jwks": [RSA_PUBLIC], **PKJ}, "jwks not an object"),
    ({"jwks": {"keys": []}, **PKJ}, "empty key set"),
    ({"jwks": {"keys": [RSA_PRIVATE]}, **PKJ}, "a private key"),
    ({"jwks": {"keys": [OCT]}, **PKJ}, "a symmetric key"),
    ({"jwks": {"keys": [SMALL_RSA]}, **PKJ}, "a short RSA key"),
    ({"jwks": {"keys": [EC_P384]}, **PKJ}, "another curve"),
    ({"jwks": {"keys": [{**RSA_PUBLIC, "alg": "ES256"}]}, **PKJ}, "alg of another type"),
    ({"jwks": {"keys": [{**RSA_PUBLIC, "alg": "RS512"}]}, **PKJ}, "unsupported alg"),
    ({"jwks": {"keys": [{**RSA_PUBLIC, "use": "enc"}]}, **PKJ}, "encryption key"),
    ({"jwks": {"keys": [{**RSA_PUBLIC, "n": "%%%" * 120}]}, **PKJ}, "a key that cannot be read"),
    ({"jwks": {"keys": [RSA_PUBLIC, {**RSA_PUBLIC}]}, **PKJ}, "duplicate kids"),
    ({"jwks": {"keys": [{"kty": "RSA"}]}, **PKJ}, "no modulus"),
    ({"jwks": {"keys": ["key"]}, **PKJ}, "key not an object"),
    ({"first_party": True}, "first party"),
    ({"approved": True}, "approval"),
    ({"subject_type": "public"}, "public subjects"),
    (
        {"redirect_uris": ["https://a.example/cb", "https://b.example/cb"]},
        "two hosts without a sector",
    ),
    ({"client_name": "Shop\u0000"}, "NUL"),
    ({"client_name": "Shop\ud800"}, "lone surrogate"),
    ({"jwks": {"keys": [{"kty": "RSA", "x": {"a": {"b": {"c": {"d": {}}}}}}]}}, "deep"),
]


def refuse(app, partners, document, code, token=None):
    token = token or partners.initial_token(partners.partner())
    before = counts(app)
    response = partners.register(token, document)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code, body
    assert body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert counts(app) == before, "a refused registration wrote something"
    return body


@pytest.mark.parametrize("fields", BAD_REDIRECTS)
def test_bad_redirect_uris_are_invalid_redirect_uri(app, partners, fields):
    refuse(app, partners, metadata(**fields), "invalid_redirect_uri")


@pytest.mark.parametrize(("fields", "why"), BAD_METADATA, ids=[w for _, w in BAD_METADATA])
def test_bad_metadata_is_invalid_client_metadata(app, partners, fields, why):
    document = metadata(**fields)
    if "client_name" in fields and fields["client_name"] is None:
        document.pop("client_name", None)
    refuse(app, partners, document, "invalid_client_metadata")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"a string"',
        b"null",
        b"{",
        b"[" * 5000 + b"]" * 5000,
        b'{"client_name": "\xff"}',
    ],
)
def test_a_body_that_is_no_json_object_is_refused(app, partners, body):
    refuse(app, partners, body, "invalid_client_metadata")


def test_a_body_of_another_type_is_refused(app, partners):
    token = partners.initial_token(partners.partner())
    before = counts(app)
    response = partners.register(
        token, "client_name=Shop", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert counts(app) == before


def test_a_refused_registration_costs_no_use_of_the_token(app, partners):
    token = partners.initial_token(partners.partner(), uses=1)
    refuse(app, partners, metadata(scope="openid nothing"), "invalid_client_metadata", token)
    assert partners.register(token, metadata()).status_code == 201


def unauthorised(app, partners, headers, expect_error=True):
    before = counts(app)
    response = partners.register(None, metadata(), headers=headers)
    assert response.status_code == 401, response.get_data(as_text=True)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    if expect_error:
        assert 'error="invalid_token"' in challenge
        assert response.get_json()["error"] == "invalid_token"
    assert counts(app) == before


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer",
        "Bearer " + "x" * 600,
        "Bearer a\u0000b",
    ],
)
def test_without_a_valid_initial_token_nothing_is_registered(app, partners, header):
    unauthorised(app, partners, {"Authorization": header})


def test_without_any_token_the_challenge_is_bare(app, partners):
    unauthorised(app, partners, {}, expect_error=False)


def test_a_token_is_used_up_after_its_uses(app, partners):
    token = partners.initial_token(partners.partner(), uses=2)
    assert partners.register(token, metadata()).status_code == 201
    assert partners.register(token, metadata()).status_code == 201
    unauthorised(app, partners, {"Authorization": f"Bearer {token}"})


def test_an_expired_token_registers_nothing(app, partners):
    token = partners.initial_token(partners.partner(), ttl_seconds=60)
    with app.app_context():
        db.session.execute(
            update(InitialAccessToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    unauthorised(app, partners, {"Authorization": f"Bearer {token}"})


def test_a_registration_access_token_is_no_initial_token(app, partners):
    body = partners.registered()
    unauthorised(app, partners, {"Authorization": f"Bearer {body['registration_access_token']}"})


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_the_registration_endpoint_takes_only_post(client, method):
    response = client.open("/oauth/register", method=method)
    assert response.status_code == 405


@pytest.mark.usefixtures("app")  # the session database, migrated
def test_registration_is_rate_limited_per_address(database_url, tmp_path):
    from tests.conftest import make_test_app

    # An app of its own with in-process counters, so no other test run can touch them.
    limited_app = make_test_app(database_url, tmp_path / "instance", api_rate_limit="3/minute")
    http = limited_app.test_client()
    statuses = [http.post("/oauth/register", json={}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    statuses = [http.get("/oauth/register/abc").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert http.get("/oauth/register/abc").get_json()["status"] == 429
