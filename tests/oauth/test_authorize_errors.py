"""Every error of the authorization endpoint, in its place: a page, or a redirect with state and iss.

RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 9207.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from idp.extensions import db
from idp.models import AuthorizationCode, ConsentStep
from idp.services.registration import get_client
from tests.id_token_hints import MALFORMED, malformed_hints
from tests.oauth.conftest import ISSUER, redirect_params, redirect_target


def assert_error_page(response):
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert 'role="alert"' in html
    assert "Location" not in response.headers


def assert_error_redirect(response, rp, error, state="s-1"):
    assert redirect_target(response) == rp.redirect_uri
    params = redirect_params(response)
    assert params["error"] == error, params
    assert params["iss"] == ISSUER
    assert params.get("state") == state
    assert "code" not in params
    return params


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": None},
        {"client_id": "no-such-client"},
        {"redirect_uri": None},
        {"redirect_uri": "https://partner.example/callback/other"},
        {"redirect_uri": "https://partner.example/callback?extra=1"},
        {"redirect_uri": "https://evil.example/callback"},
    ],
)
def test_unknown_client_or_redirect_uri_gets_a_page(oauth, rp, params):
    assert_error_page(oauth.authorize(rp, **params))


def test_repeated_client_id_or_redirect_uri_gets_a_page(oauth, rp):
    base = f"response_type=code&scope=openid&redirect_uri={rp.redirect_uri}"
    twice = oauth.http.get(f"/oauth/authorize?{base}&client_id={rp.client_id}&client_id=x")
    assert_error_page(twice)
    query = urlencode(
        [("client_id", rp.client_id), ("redirect_uri", rp.redirect_uri)] * 2
        + [("response_type", "code"), ("scope", "openid")]
    )
    assert_error_page(oauth.http.get(f"/oauth/authorize?{query}"))


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": None}, "invalid_scope"),
        ({"scope": "email"}, "invalid_scope"),
        ({"scope": "openid unknown"}, "invalid_scope"),
        ({"scope": "openid address"}, "invalid_scope"),  # not registered by the client
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"response_mode": "form_post"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://partner.example/r"}, "request_uri_not_supported"),
        ({"registration": "{}"}, "registration_not_supported"),
        ({"code_challenge": "a" * 43}, "invalid_request"),  # defaults to plain
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "sometimes"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"claims": "{not json"}, "invalid_request"),
        ({"claims": "[]"}, "invalid_request"),
        ({"claims": json.dumps({"id_token": []})}, "invalid_request"),
        ({"claims": json.dumps({"id_token": {"email": {"essential": "yes"}}})}, "invalid_request"),
        ({"id_token_hint": "not-a-jwt"}, "invalid_request"),
        ({"nonce": "n" * 5000}, "invalid_request"),
        (
            {"claims": json.dumps({"id_token": {"acr": {"essential": True, "values": ["x"]}}})},
            "access_denied",
        ),
    ],
)
def test_request_errors_redirect_with_state_and_iss(oauth, rp, member_id, params, error):
    oauth.login(member_id)
    response = oauth.authorize(rp, state="s-1", **params)
    assert_error_redirect(response, rp, error)
    with oauth.app.app_context():
        assert db.session.query(AuthorizationCode).filter_by(client_id=rp.pk).count() == 0
        assert db.session.query(ConsentStep).filter_by(client_id=rp.pk).count() == 0


def test_repeated_parameter_after_the_redirect_uri_is_invalid_request(oauth, rp):
    query = urlencode(
        [
            ("client_id", rp.client_id),
            ("redirect_uri", rp.redirect_uri),
            ("response_type", "code"),
            ("scope", "openid"),
            ("scope", "openid email"),
            ("state", "s-1"),
        ]
    )
    assert_error_redirect(oauth.http.get(f"/oauth/authorize?{query}"), rp, "invalid_request")


def test_error_without_state_has_no_state(oauth, rp):
    params = assert_error_redirect(
        oauth.authorize(rp, state=None, scope=None), rp, "invalid_scope", None
    )
    assert "state" not in params


def test_client_not_allowed_the_code_response_type_is_unauthorized_client(oauth, rp, member_id):
    with oauth.app.app_context():
        client = get_client(rp.client_id)
        client.response_types = []
        db.session.commit()
    response = oauth.authorize(rp, state="s-1")
    assert_error_redirect(response, rp, "unauthorized_client")


def test_id_token_hint_from_another_client_is_invalid_request(oauth, rp, member_id):
    other = oauth.client(scope="openid")
    oauth.login(member_id)
    hint = oauth.tokens(other)["id_token"]
    response = oauth.authorize(rp, state="s-1", id_token_hint=hint)
    assert_error_redirect(response, rp, "invalid_request")


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_id_token_hint_is_invalid_request(oauth, rp, member_id, name):
    oauth.login(member_id)
    with oauth.app.app_context():
        claims = {"iss": ISSUER, "sub": "somebody", "aud": rp.client_id}
        hint = malformed_hints(claims)[name]
    response = oauth.authorize(rp, state="s-1", id_token_hint=hint)
    assert_error_redirect(response, rp, "invalid_request")
