"""The pushed authorization request endpoint (RFC 9126 §2): client authentication and checks.

Every bad push is an OAuth error in JSON (§2.3) and stores nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from idp.extensions import db
from idp.models import PushedAuthorizationRequest
from idp.models.token import hash_value
from tests.oauth.conftest import ISSUER, PKCE
from tests.oauth.pushing import URN_PREFIX, push, request_parameters, stored_count
from tests.oauth.test_private_key_jwt import assertion, with_assertion


def test_a_push_with_client_secret_basic_gets_a_request_uri(oauth, rp, app):
    response = push(oauth, rp, scope="openid email", state="s-1")
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"request_uri", "expires_in"}
    assert body["expires_in"] == 60
    assert body["request_uri"].startswith(URN_PREFIX)
    reference = body["request_uri"].removeprefix(URN_PREFIX)
    assert len(reference) >= 43  # 256 bits
    with app.app_context():
        (row,) = db.session.scalars(
            select(PushedAuthorizationRequest).where(PushedAuthorizationRequest.client_id == rp.pk)
        )
        # Only a hash of the reference is stored.
        assert row.reference_hash == hash_value(reference)
        assert reference not in row.reference_hash
        assert row.parameters["state"] == ["s-1"]
        assert row.parameters["client_id"] == [rp.client_id]
        assert "client_secret" not in row.parameters
        assert row.used_at is None and row.expires_at > row.created_at


def test_a_push_with_client_secret_post(oauth):
    rp = oauth.client(token_endpoint_auth_method="client_secret_post")
    response = push(oauth, rp, headers={}, client_secret=rp.secret)
    assert response.status_code == 201, response.get_json()


def test_a_push_with_private_key_jwt_for_the_par_endpoint(oauth, jwt_rp, client_key):
    signed = assertion(jwt_rp, client_key, aud=f"{ISSUER}/oauth/par")
    response = push(oauth, jwt_rp, headers={}, scope="openid", **with_assertion(signed))
    assert response.status_code == 201, response.get_json()
    replayed = push(oauth, jwt_rp, headers={}, scope="openid", **with_assertion(signed))
    assert replayed.status_code == 401


def test_a_public_client_pushes_with_pkce(oauth, app):
    public = oauth.client(public=True, scope="openid email")
    assert push(oauth, public, headers={}).status_code == 201
    before = stored_count(app)
    response = push(oauth, public, headers={}, code_challenge=None, code_challenge_method=None)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "PKCE" in response.get_json()["error_description"]
    assert stored_count(app) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="},
        {"Authorization": "Bearer abc"},
    ],
)
def test_a_push_without_valid_client_authentication_is_401(oauth, rp, app, headers):
    before = stored_count(app)
    response = push(oauth, rp, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert stored_count(app) == before


def test_a_wrong_secret_is_401(oauth, rp):
    rp.secret = "wrong"
    assert push(oauth, rp).status_code == 401


def test_client_id_must_be_the_client_that_authenticated(oauth, rp, app):
    other = oauth.client("Other Partner", token_endpoint_auth_method="client_secret_post")
    before = stored_count(app)
    # Basic as rp, client_id of another client in the body.
    response = push(oauth, rp, client_id=other.client_id)
    assert response.status_code == 401
    # client_secret_post: the secret of one client under another's id.
    response = push(oauth, other, headers={}, client_id=rp.client_id, client_secret=other.secret)
    assert response.status_code == 401
    assert stored_count(app) == before


def test_client_id_may_be_left_out_with_basic(oauth, rp):
    response = push(oauth, rp, client_id=None)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"redirect_uri": None}, "invalid_request"),
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": None}, "invalid_scope"),
        ({"scope": "email"}, "invalid_scope"),
        ({"scope": "openid lhg_profiles"}, "invalid_scope"),
        ({"scope": "openid nonsense"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"claims": "{not json"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request_uri": URN_PREFIX + "abc"}, "invalid_request"),
        ({"request_uri": "https://rp.example/request.jwt"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"id_token_hint": "not-a-token"}, "invalid_request"),
        ({"state": "a\x00b"}, "invalid_request"),
    ],
)
def test_a_bad_push_is_a_json_error_and_stores_nothing(oauth, rp, app, params, error):
    before = stored_count(app)
    response = push(oauth, rp, **params)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert stored_count(app) == before


def test_a_repeated_parameter_is_refused(oauth, rp, app):
    data = MultiDict([*request_parameters(rp).items(), ("scope", "openid profile")])
    response = oauth.http.post("/oauth/par", data=data, headers=rp.basic())
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert stored_count(app) == 0


def test_a_get_is_refused(oauth, rp):
    response = oauth.http.get("/oauth/par", headers=rp.basic())
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_a_suspended_or_unknown_redirect_is_refused_before_storing(oauth, app):
    rp = oauth.client(redirect_uris=["https://partner.example/callback"])
    response = push(oauth, rp, redirect_uri="https://partner.example/callback/other")
    assert response.status_code == 400
    assert stored_count(app) == 0


def test_the_same_parameters_can_be_pushed_twice_for_two_references(oauth, rp):
    pkce = PKCE.new()
    first = push(oauth, rp, pkce=pkce, state="same").get_json()["request_uri"]
    second = push(oauth, rp, pkce=pkce, state="same").get_json()["request_uri"]
    assert first != second


def test_discovery_names_the_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["pushed_authorization_request_endpoint"] == f"{ISSUER}/oauth/par"
    assert metadata["require_pushed_authorization_requests"] is False
    # OIDC's request objects by reference stay unsupported.
    assert metadata["request_uri_parameter_supported"] is False


def test_the_pushed_parameters_are_ciphertext_at_rest(oauth, rp, app):
    assert push(oauth, rp, login_hint="anna@example.com").status_code == 201
    with app.app_context():
        stored = db.session.execute(
            text("SELECT parameters FROM pushed_authorization_requests")
        ).scalar_one()
    assert "anna@example.com" not in stored and stored.startswith("gAAAAA")
