"""A pushed request at the authorization endpoint (RFC 9126 §4-§6).

The ``request_uri`` stands for the pushed parameters; it is bound to its
client, short-lived, and used once: by the first browser, which may come back
with it after logging in until a code is issued.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import PushedAuthorizationRequest
from idp.models.types import utcnow
from idp.services import pushed_requests
from tests.oauth.conftest import ISSUER, PKCE, redirect_params
from tests.oauth.pushing import authorize_with, next_path, pushed_uri


def invalid_request_uri_page(response) -> None:
    assert response.status_code == 400, response.headers.get("Location")
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert "expired or was used already" in response.get_data(as_text=True)


def test_the_whole_journey_login_consent_code_token(oauth, rp, member_id):
    pkce = PKCE.new()
    uri = pushed_uri(oauth, rp, pkce=pkce, scope="openid email", state="st-1", nonce="n-1")

    to_login = authorize_with(oauth.http, rp.client_id, uri)
    back = next_path(to_login)
    # The member comes back by the reference: the pushed parameters stay out of the browser.
    assert parse_qs(urlsplit(back).query) == {"client_id": [rp.client_id], "request_uri": [uri]}
    oauth.login(member_id)
    consent = oauth.http.get(back)
    answered = oauth.answer(consent)
    result = redirect_params(answered)
    assert result["state"] == "st-1" and result["iss"] == ISSUER

    tokens = oauth.exchange(rp, result["code"], code_verifier=pkce.verifier)
    assert tokens.status_code == 200, tokens.get_json()
    body = tokens.get_json()
    assert body["scope"] == "openid email"
    assert oauth.id_token_claims(body["id_token"])["nonce"] == "n-1"

    # Spent: no second code from the same reference, not even in the same browser.
    invalid_request_uri_page(oauth.http.get(back))


def test_parameters_next_to_the_request_uri_are_ignored(oauth, rp, member_id):
    oauth.login(member_id)
    uri = pushed_uri(oauth, rp, scope="openid", state="pushed-state")
    response = authorize_with(
        oauth.http,
        rp.client_id,
        uri,
        scope="openid email profile",
        state="query-state",
        redirect_uri="https://evil.example/cb",
    )
    result = redirect_params(oauth.answer(response))
    assert result["state"] == "pushed-state"
    assert response.headers["Location"].startswith("/consent/")


def test_with_a_standing_consent_the_code_comes_at_once_and_spends_the_reference(
    oauth, rp, member_id
):
    oauth.login(member_id)
    oauth.code(rp, scope="openid email")  # consents
    uri = pushed_uri(oauth, rp, scope="openid email", state="again")
    result = redirect_params(authorize_with(oauth.http, rp.client_id, uri))
    assert result["state"] == "again" and "code" in result
    invalid_request_uri_page(authorize_with(oauth.http, rp.client_id, uri))


def test_errors_after_the_checks_go_back_with_the_pushed_state(oauth, rp):
    uri = pushed_uri(oauth, rp, prompt="none", state="quiet")
    result = redirect_params(authorize_with(oauth.http, rp.client_id, uri))
    assert result["error"] == "login_required"
    assert result["state"] == "quiet" and result["iss"] == ISSUER


def test_a_reference_is_used_once_by_one_browser(oauth, rp, app, member_id):
    uri = pushed_uri(oauth, rp)
    first = authorize_with(oauth.http, rp.client_id, uri)
    assert next_path(first)
    # The same browser may load it again (RFC 9126 §4: a reload)...
    assert next_path(authorize_with(oauth.http, rp.client_id, uri))
    # ...another browser may not.
    thief = app.test_client()
    invalid_request_uri_page(authorize_with(thief, rp.client_id, uri))
    # And the first browser still finishes.
    oauth.login(member_id)
    assert redirect_params(oauth.answer(oauth.http.get(next_path(first))))["code"]


def test_a_reference_is_bound_to_its_client(oauth, rp, app):
    other = oauth.client("Other Partner")
    uri = pushed_uri(oauth, rp)
    invalid_request_uri_page(authorize_with(oauth.http, other.client_id, uri))
    # Presenting it with another client did not use it up.
    assert next_path(authorize_with(app.test_client(), rp.client_id, uri))


def test_an_expired_reference_is_refused(oauth, rp):
    uri = pushed_uri(oauth, rp)
    later = utcnow() + timedelta(seconds=61)
    with patch.object(pushed_requests, "utcnow", lambda: later):
        invalid_request_uri_page(authorize_with(oauth.http, rp.client_id, uri))


def test_the_first_browser_cannot_come_back_after_the_hold(oauth, rp):
    uri = pushed_uri(oauth, rp)
    assert next_path(authorize_with(oauth.http, rp.client_id, uri))
    later = utcnow() + pushed_requests.HOLD + timedelta(seconds=1)
    with patch.object(pushed_requests, "utcnow", lambda: later):
        invalid_request_uri_page(authorize_with(oauth.http, rp.client_id, uri))


@pytest.mark.parametrize(
    "reference",
    [
        "urn:ietf:params:oauth:request_uri:unknown",
        "urn:ietf:params:oauth:request_uri:",
        "urn:ietf:params:oauth:request_uri:" + "x" * 300,
    ],
)
def test_an_unknown_reference_is_refused_on_a_page(oauth, rp, reference):
    invalid_request_uri_page(authorize_with(oauth.http, rp.client_id, reference))


def test_a_request_uri_that_is_not_a_pushed_one_stays_unsupported(oauth, rp):
    response = oauth.authorize(rp, request_uri="https://rp.example/request.jwt")
    assert redirect_params(response)["error"] == "request_uri_not_supported"


def test_a_repeated_request_uri_is_refused(oauth, rp):
    uri = pushed_uri(oauth, rp)
    response = oauth.http.get(
        f"/oauth/authorize?client_id={rp.client_id}&request_uri={uri}&request_uri={uri}"
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_request_uri_without_client_id_is_refused(oauth, rp):
    uri = pushed_uri(oauth, rp)
    response = oauth.http.get("/oauth/authorize", query_string={"request_uri": uri})
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_client_that_requires_pushed_requests_refuses_plain_ones(oauth, member_id):
    strict = oauth.client(require_pushed_authorization_requests=True)
    oauth.login(member_id)
    plain = redirect_params(oauth.authorize(strict, state="plain"))
    assert plain["error"] == "invalid_request"
    assert plain["error_description"] == "pushed authorization request required"
    assert plain["state"] == "plain" and plain["iss"] == ISSUER
    uri = pushed_uri(oauth, strict)
    assert "code" in redirect_params(
        oauth.answer(authorize_with(oauth.http, strict.client_id, uri))
    )


def test_the_provider_can_require_pushed_requests_for_every_client(
    oauth, rp, app, monkeypatch, member_id
):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], require_par=True))
    monkeypatch.setitem(app.extensions, "idp_discovery_document", None)
    metadata = oauth.http.get("/.well-known/openid-configuration").get_json()
    assert metadata["require_pushed_authorization_requests"] is True
    oauth.login(member_id)
    plain = redirect_params(oauth.authorize(rp))
    assert plain["error"] == "invalid_request"
    assert plain["error_description"] == "pushed authorization request required"
    uri = pushed_uri(oauth, rp)
    assert "code" in redirect_params(oauth.answer(authorize_with(oauth.http, rp.client_id, uri)))


def test_the_lifetime_is_a_setting(oauth, rp, app, monkeypatch):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], par_lifetime_seconds=30))
    response = oauth.http.post(
        "/oauth/par",
        data={"response_type": "code", "redirect_uri": rp.redirect_uri, "scope": "openid"},
        headers=rp.basic(),
    )
    assert response.get_json()["expires_in"] == 30
    with app.app_context():
        row = db.session.scalars(select(PushedAuthorizationRequest)).one()
        assert abs((row.expires_at - row.created_at).total_seconds() - 30) < 1


def test_prompt_login_in_a_pushed_request_logs_in_again_and_comes_back(oauth, rp, member_id):
    oauth.login(member_id)
    uri = pushed_uri(oauth, rp, prompt="login", state="again")
    back = next_path(authorize_with(oauth.http, rp.client_id, uri))
    assert parse_qs(urlsplit(back).query)["request_uri"] == [uri]
    oauth.login(member_id)
    result = redirect_params(oauth.answer(oauth.http.get(back)))
    assert result["state"] == "again" and "code" in result


def test_the_consent_screen_holds_the_request_and_spends_the_reference(oauth, rp, member_id):
    oauth.login(member_id)
    uri = pushed_uri(oauth, rp, state="on-screen")
    to_consent = authorize_with(oauth.http, rp.client_id, uri)
    # From here the consent step carries the pushed parameters; the reference is done.
    invalid_request_uri_page(authorize_with(oauth.http, rp.client_id, uri))
    result = redirect_params(oauth.answer(to_consent))
    assert result["state"] == "on-screen" and "code" in result


def test_a_denial_goes_back_with_the_pushed_state(oauth, rp, member_id):
    oauth.login(member_id)
    uri = pushed_uri(oauth, rp, state="no-thanks")
    result = redirect_params(oauth.answer(authorize_with(oauth.http, rp.client_id, uri), "deny"))
    assert result["error"] == "access_denied" and result["state"] == "no-thanks"


def test_a_state_in_the_query_is_not_echoed_for_a_pushed_request_without_one(oauth, rp):
    uri = pushed_uri(oauth, rp, prompt="none", state=None)
    result = redirect_params(authorize_with(oauth.http, rp.client_id, uri, state="from-query"))
    assert result["error"] == "login_required" and "state" not in result
