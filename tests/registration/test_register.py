"""RFC 7591 registration through the front door: what a partner gets, and where it lands."""

from __future__ import annotations

from joserfc.jwk import ECKey, RSAKey

from idp.extensions import db
from idp.models import Partner
from idp.models.types import utcnow
from idp.services.registration import get_client
from tests.registration.conftest import REDIRECT, basic, counts, metadata


def test_discovery_names_the_registration_endpoint(client):
    metadata_ = client.get("/.well-known/openid-configuration").get_json()
    assert metadata_["registration_endpoint"] == "http://127.0.0.1:5000/oauth/register"


def test_a_confidential_client_is_registered_unapproved_for_the_tokens_partner(app, partners):
    partner_id = partners.partner()
    response = partners.register(partners.initial_token(partner_id), metadata())
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    for name in (
        "client_id",
        "client_secret",
        "registration_access_token",
        "registration_client_uri",
        "client_id_issued_at",
        "client_secret_expires_at",
    ):
        assert name in body, name
    assert body["client_secret_expires_at"] == 0
    assert abs(body["client_id_issued_at"] - utcnow().timestamp()) < 60
    assert body["registration_client_uri"] == (
        f"http://127.0.0.1:5000/oauth/register/{body['client_id']}"
    )
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["redirect_uris"] == [REDIRECT]
    with app.app_context():
        stored = get_client(body["client_id"])
        assert stored.partner_id == partner_id
        assert not stored.approved and not stored.first_party
        assert stored.subject_type == "pairwise"
        assert stored.check_client_secret(body["client_secret"])
        # Only hashes are stored.
        assert body["registration_access_token"] not in (
            stored.registration_token_hash,
            stored.previous_registration_token_hash,
        )
        assert stored.registration_token_hash is not None


def test_without_purposes_the_smallest_set_covering_the_scopes_is_taken(app, partners):
    cases = {
        "openid profile email": ["registration"],
        "openid card_number miles": ["miles"],
        "openid miles lhg_profiles offline_access": ["miles", "registration"],
        "openid": [],
    }
    for scope, purposes in cases.items():
        body = partners.registered(metadata(scope=scope))
        assert body["purposes"] == purposes, scope
        assert body["scope"] == scope


def test_purposes_without_a_scope_give_openid_and_the_purposes_scopes(partners):
    body = partners.registered(metadata(scope=None, purposes=["miles"]))
    assert set(body["scope"].split()) == {"openid", "card_number", "miles", "status"}
    assert body["purposes"] == ["miles"]


def test_a_public_client_gets_no_secret(app, partners):
    body = partners.registered(
        metadata(token_endpoint_auth_method="none", redirect_uris=["com.shop.app:/cb"])
    )
    assert "client_secret" not in body
    assert body["grant_types"] == ["authorization_code"]  # RFC 7591 §2: the default
    with app.app_context():
        assert get_client(body["client_id"]).is_public


def test_private_key_jwt_with_a_public_key_set(app, partners):
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    jwks = {"keys": [rsa.as_dict(private=False), ec.as_dict(private=False)]}
    body = partners.registered(metadata(token_endpoint_auth_method="private_key_jwt", jwks=jwks))
    assert "client_secret" not in body
    assert [k["kid"] for k in body["jwks"]["keys"]] == ["rsa-1", "ec-1"]
    body = partners.registered(
        metadata(token_endpoint_auth_method="private_key_jwt", jwks_uri="https://shop.example/k")
    )
    assert body["jwks_uri"] == "https://shop.example/k"


def test_every_metadata_field_is_kept(app, partners):
    document = metadata(
        post_logout_redirect_uris=["https://shop.example/bye"],
        logo_uri="https://shop.example/logo.png",
        client_uri="https://shop.example/",
        policy_uri="https://shop.example/privacy",
        tos_uri="https://shop.example/terms",
        backchannel_logout_uri="https://shop.example/bcl",
        backchannel_logout_session_required=False,
        security_event_uri="https://shop.example/events",
        access_token_ttl=600,
        grant_ttl=86400,
        id_token_signed_response_alg="ES256",
        grant_types=["authorization_code"],
        response_types=["code"],
        token_endpoint_auth_method="client_secret_post",
        software_id="ignored-unknown-metadata",
    )
    body = partners.registered(document)
    for name, value in document.items():
        if name != "software_id":
            assert body[name] == value, name
    assert "software_id" not in body


def test_a_machine_client_needs_no_redirect_uri(app, partners):
    body = partners.registered(
        metadata(redirect_uris=None, grant_types=["client_credentials"], response_types=[])
    )
    assert body["redirect_uris"] == [] and body["response_types"] == []
    answer = partners.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(body["client_id"], body["client_secret"]),
    )
    assert answer.status_code == 200, answer.get_json()


def test_a_token_without_partner_creates_a_partner_per_registration(app, partners):
    token = partners.initial_token(None)
    first = partners.register(token, metadata(client_name="First Shop")).get_json()
    second = partners.register(token, metadata(client_name="Second Shop")).get_json()
    with app.app_context():
        a, b = get_client(first["client_id"]), get_client(second["client_id"])
        assert a.partner_id != b.partner_id
        partner = db.session.get(Partner, a.partner_id)
        assert partner.name == "First Shop" and partner.category == "partner_company"


def test_a_reusable_token_counts_its_uses(app, partners):
    token = partners.initial_token(partners.partner())
    before = counts(app)
    for _ in range(3):
        assert partners.register(token, metadata()).status_code == 201
    after = counts(app)
    assert after["clients"] == before["clients"] + 3
    assert after["uses"] == before["uses"] + 3


def test_a_client_registered_with_keys_authenticates_with_them(partners):
    import secrets
    import time

    from joserfc import jwt

    key = ECKey.generate_key("P-256", parameters={"kid": "shop-2026"})
    body = partners.registered(
        metadata(
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [key.as_dict(private=False)]},
            grant_types=["authorization_code", "client_credentials"],
        )
    )
    now = int(time.time())
    claims = {
        "iss": body["client_id"],
        "sub": body["client_id"],
        "aud": "http://127.0.0.1:5000/oauth/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(16),
    }
    signed = jwt.encode({"alg": "ES256", "kid": "shop-2026"}, claims, key)
    answer = partners.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        },
    )
    assert answer.status_code == 200, answer.get_json()


def test_a_client_that_names_no_grant_type_gets_the_code_grant_only(partners):
    """RFC 7591 §2: without grant_types the client uses only authorization_code."""
    body = partners.registered(metadata(scope="openid profile offline_access"))
    assert body["grant_types"] == ["authorization_code"]
    answer = partners.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(body["client_id"], body["client_secret"]),
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "unauthorized_client"
    both = partners.registered(metadata(grant_types=["authorization_code", "refresh_token"]))
    assert both["grant_types"] == ["authorization_code", "refresh_token"]
