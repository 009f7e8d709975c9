"""Each HTTP request validates the authorization request once, and the consent POST still does.

The checks look up the client and verify ``id_token_hint``; counted here per
request: at ``/oauth/authorize`` (also coming back from the login page) and on
both visits of the consent screen.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from idp.extensions import db
from idp.models import AuthorizationCode
from idp.oauth import id_token_hint
from idp.oauth.authorize import checks
from idp.services.registration import get_client
from tests.oauth.conftest import CSRF_INPUT, ISSUER, redirect_params, redirect_target


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """How often the request was validated, its client looked up and a hint verified."""
    counted = Counter()

    def count(module, name):
        original = getattr(module, name)

        def counting(*args, **kwargs):
            counted[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)

    count(checks, "validate")
    count(checks, "get_client")
    count(id_token_hint, "verify")
    return counted


def once(calls: Counter, hint: bool = True) -> None:
    expected = {"validate": 1, "get_client": 1}
    if hint:
        expected["verify"] = 1
    assert dict(calls) == expected
    calls.clear()


def test_authorize_consent_page_and_answer_each_validate_once(oauth, rp, member_id, calls):
    oauth.login(member_id)
    hint = oauth.tokens(rp)["id_token"]
    calls.clear()

    response = oauth.authorize(rp, prompt="consent", id_token_hint=hint, state="o")
    location = response.headers["Location"]
    assert urlsplit(location).path.startswith("/consent/")
    once(calls)

    page = oauth.http.get(location)
    assert page.status_code == 200
    once(calls)

    form = {"decision": "allow", "csrf_token": CSRF_INPUT.search(page.get_data(as_text=True))[1]}
    answer = oauth.http.post(location, data=form)
    params = redirect_params(answer)
    assert "code" in params and params["state"] == "o" and params["iss"] == ISSUER
    once(calls)


def test_a_denial_validates_once(oauth, rp, member_id, calls):
    oauth.login(member_id)
    location, page = oauth.consent_page(oauth.authorize(rp, state="d"))
    calls.clear()
    form = {"decision": "deny", "csrf_token": CSRF_INPUT.search(page.get_data(as_text=True))[1]}
    params = redirect_params(oauth.http.post(location, data=form))
    assert params["error"] == "access_denied" and params["state"] == "d" and params["iss"]
    once(calls, hint=False)


def test_coming_back_from_the_login_page_validates_once(oauth, rp, member_id, calls):
    oauth.login(member_id)
    oauth.code(rp)
    oauth.http.delete_cookie("mam_session", domain="localhost")
    calls.clear()
    response = oauth.authorize(rp, state="l")
    assert urlsplit(response.headers["Location"]).path == "/login"
    once(calls, hint=False)
    next_path = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    oauth.login(member_id)
    params = redirect_params(oauth.http.get(next_path))
    assert "code" in params and params["state"] == "l"
    once(calls, hint=False)


def test_an_error_response_validates_once(oauth, rp, member_id, calls):
    oauth.login(member_id)
    params = redirect_params(oauth.authorize(rp, state="e", id_token_hint="not-a-jwt"))
    assert params["error"] == "invalid_request" and params["iss"] == ISSUER
    once(calls)


def test_the_answer_is_checked_against_the_client_as_it_is_now(oauth, rp, member_id):
    oauth.login(member_id)
    location, page = oauth.consent_page(oauth.authorize(rp, scope="openid email", state="c"))
    with oauth.app.app_context():
        get_client(rp.client_id).scope = "openid"
        db.session.commit()
    form = {"decision": "allow", "csrf_token": CSRF_INPUT.search(page.get_data(as_text=True))[1]}
    response = oauth.http.post(location, data=form)
    assert redirect_target(response) == rp.redirect_uri
    params = redirect_params(response)
    assert params["error"] == "invalid_scope" and params["state"] == "c" and params["iss"]
    with oauth.app.app_context():
        assert db.session.query(AuthorizationCode).filter_by(client_id=rp.pk).count() == 0


def test_an_answer_for_a_redirect_uri_removed_meanwhile_gets_a_page(oauth, rp, member_id):
    oauth.login(member_id)
    location, page = oauth.consent_page(oauth.authorize(rp))
    with oauth.app.app_context():
        get_client(rp.client_id).redirect_uris = ["https://partner.example/elsewhere"]
        db.session.commit()
    form = {"decision": "allow", "csrf_token": CSRF_INPUT.search(page.get_data(as_text=True))[1]}
    response = oauth.http.post(location, data=form)
    assert response.status_code == 400 and "Location" not in response.headers
    assert 'role="alert"' in response.get_data(as_text=True)
