"""Login before the code: prompt, max_age, login_hint and id_token_hint (OIDC Core §3.1.2.1-3)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from idp.extensions import db
from idp.models import SSOSession
from idp.models.types import utcnow
from tests.oauth.conftest import redirect_params


def login_redirect(response) -> dict:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and not location.netloc
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_not_logged_in_goes_to_login_and_back(oauth, rp, member_id):
    response = oauth.authorize(rp, state="s-1", login_hint="anna@example.com", ui_locales="de")
    query = login_redirect(response)
    assert query["login_hint"] == "anna@example.com"
    assert query["ui_locales"] == "de"
    assert query["next"].startswith("/oauth/authorize?")
    # After both factors the login page follows `next`, a relative URL on this provider.
    oauth.login(member_id)
    back = oauth.http.get(query["next"])
    back = oauth.answer(back)
    assert redirect_params(back)["state"] == "s-1"


def test_prompt_none_without_a_session_is_login_required(oauth, rp):
    params = redirect_params(oauth.authorize(rp, prompt="none", state="s-1"))
    assert params["error"] == "login_required" and params["state"] == "s-1" and params["iss"]


def test_prompt_none_with_consent_given_returns_a_code(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp)
    params = redirect_params(oauth.authorize(rp, prompt="none"))
    assert "code" in params


def test_prompt_login_forces_a_new_login_once(oauth, rp, member_id):
    old_sid = oauth.login(member_id, auth_time=utcnow() - timedelta(minutes=5))
    oauth.code(rp)
    response = oauth.authorize(rp, prompt="login", state="again")
    query = login_redirect(response)
    with oauth.app.app_context():
        assert db.session.get(SSOSession, old_sid).ended_at is not None
    # Coming back without a new login asks again ...
    assert login_redirect(oauth.http.get(query["next"]))
    # ... and after a fresh login the same request goes through.
    new_sid = oauth.login(member_id)
    params = redirect_params(oauth.http.get(query["next"]))
    assert params["state"] == "again" and "code" in params
    token = oauth.exchange(rp, params["code"]).get_json()
    assert oauth.id_token_claims(token["id_token"])["sid"] == new_sid


def test_prompt_none_cannot_force_a_login(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp)
    for prompt in ("none",):
        params = redirect_params(oauth.authorize(rp, prompt=prompt, max_age="0"))
        assert params["error"] == "login_required"


def test_max_age_exceeded_forces_a_login(oauth, rp, member_id):
    oauth.login(member_id, auth_time=utcnow() - timedelta(hours=2))
    oauth.code(rp, max_age="86400")  # recent enough
    response = oauth.authorize(rp, max_age="3600")
    query = login_redirect(response)
    oauth.login(member_id)
    params = redirect_params(oauth.http.get(query["next"]))
    assert "code" in params
    token = oauth.exchange(rp, params["code"]).get_json()
    auth_time = oauth.id_token_claims(token["id_token"])["auth_time"]
    assert auth_time > (utcnow() - timedelta(minutes=1)).timestamp()


def test_max_age_zero_does_not_loop(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp)
    query = login_redirect(oauth.authorize(rp, max_age="0"))
    oauth.login(member_id)
    assert "code" in redirect_params(oauth.http.get(query["next"]))


def test_select_account_lets_the_member_log_in_again(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp)
    query = login_redirect(oauth.authorize(rp, prompt="select_account"))
    oauth.login(member_id)
    assert "code" in redirect_params(oauth.http.get(query["next"]))


def test_id_token_hint_of_the_logged_in_member_passes(oauth, rp, member_id):
    oauth.login(member_id)
    hint = oauth.tokens(rp)["id_token"]
    params = redirect_params(oauth.authorize(rp, prompt="none", id_token_hint=hint))
    assert "code" in params


def test_id_token_hint_of_another_member(oauth, rp, member_id):
    oauth.login(member_id)
    hint = oauth.tokens(rp)["id_token"]
    other = oauth.member()
    oauth.login(other)
    oauth.code(rp)
    params = redirect_params(oauth.authorize(rp, prompt="none", id_token_hint=hint, state="h"))
    assert params["error"] == "login_required" and params["state"] == "h"
    # Without prompt=none the member is asked to log in as the right member ...
    query = login_redirect(oauth.authorize(rp, id_token_hint=hint, state="h"))
    # ... and logging in as the other member again ends in login_required, not in a loop.
    oauth.login(other)
    params = redirect_params(oauth.http.get(query["next"]))
    assert params["error"] == "login_required"


def test_an_ended_session_is_not_a_login(oauth, rp, member_id):
    sid = oauth.login(member_id)
    with oauth.app.app_context():
        db.session.get(SSOSession, sid).ended_at = utcnow()
        db.session.commit()
    assert login_redirect(oauth.authorize(rp))
