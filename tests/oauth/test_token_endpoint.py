"""The token endpoint's errors (RFC 6749 §5.2) and the authorization code's rules."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from idp.extensions import db
from idp.models import AuthorizationCode, Consent, Token
from idp.models.types import utcnow
from idp.services import tokens as token_service
from idp.services.withdrawal import withdraw_partner_access
from tests.oauth.conftest import PKCE, redirect_params


def assert_oauth_error(response, status, error):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    return response.get_json()


def test_missing_client_authentication_is_401_invalid_client(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    response = oauth.exchange(rp, code, headers={"X-None": "1"})
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "credentials",
    [
        lambda rp: (rp.client_id, "wrong-secret"),
        lambda rp: ("no-such-client", rp.secret),
        lambda rp: (rp.client_id, ""),
    ],
)
def test_wrong_basic_credentials_are_401_with_a_basic_challenge(oauth, rp, member_id, credentials):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    user, password = credentials(rp)
    header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    response = oauth.exchange(rp, code, headers={"Authorization": header})
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    # The code was not spent by the failed attempt.
    assert oauth.exchange(rp, code).status_code == 200


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe").decode()])
def test_malformed_basic_header_is_401(oauth, rp, header):
    response = oauth.token(rp, headers={"Authorization": header}, grant_type="client_credentials")
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_secret_in_the_body_for_a_basic_client_is_refused(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    response = oauth.exchange(
        rp, code, headers={"X": "1"}, client_id=rp.client_id, client_secret=rp.secret
    )
    assert_oauth_error(response, 401, "invalid_client")


def test_client_secret_post(oauth, member_id):
    rp = oauth.client(scope="openid", token_endpoint_auth_method="client_secret_post")
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    response = oauth.exchange(
        rp, code, headers={"X": "1"}, client_id=rp.client_id, client_secret=rp.secret
    )
    assert response.status_code == 200
    bad = oauth.exchange(rp, code, headers={"X": "1"}, client_id=rp.client_id, client_secret="x")
    assert_oauth_error(bad, 401, "invalid_client")


def test_two_authentication_methods_at_once_are_invalid_request(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    response = oauth.exchange(rp, code, client_secret=rp.secret)
    assert_oauth_error(response, 400, "invalid_request")


def test_grant_type_errors(oauth, rp):
    assert_oauth_error(oauth.token(rp), 400, "invalid_request")
    assert_oauth_error(oauth.token(rp, grant_type="password"), 400, "unsupported_grant_type")
    assert_oauth_error(oauth.token(rp, grant_type="implicit"), 400, "unsupported_grant_type")


def test_get_and_repeated_parameters_are_invalid_request(oauth, rp, member_id):
    response = oauth.http.get("/oauth/token?grant_type=client_credentials", headers=rp.basic())
    assert_oauth_error(response, 400, "invalid_request")
    response = oauth.http.post(
        "/oauth/token",
        data={"grant_type": ["client_credentials", "client_credentials"]},
        headers=rp.basic(),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_code_errors_are_invalid_grant(oauth, rp, member_id):
    oauth.login(member_id)
    assert_oauth_error(
        oauth.token(rp, grant_type="authorization_code", redirect_uri=rp.redirect_uri),
        400,
        "invalid_request",
    )
    assert_oauth_error(oauth.exchange(rp, "not-a-code"), 400, "invalid_grant")
    code, _ = oauth.code(rp)
    assert_oauth_error(
        oauth.exchange(rp, code, redirect_uri=rp.redirect_uri + "x"), 400, "invalid_grant"
    )
    assert_oauth_error(oauth.exchange(rp, code, redirect_uri=None), 400, "invalid_grant")
    other = oauth.client(scope="openid")
    assert_oauth_error(oauth.exchange(other, code), 400, "invalid_grant")
    assert oauth.exchange(rp, code).status_code == 200


def test_a_client_without_the_grant_type_is_unauthorized_client(oauth, member_id):
    rp = oauth.client(scope="openid", grant_types=["client_credentials"])
    assert_oauth_error(
        oauth.exchange(rp, "whatever"),
        400,
        "unauthorized_client",
    )


def test_an_expired_code_is_refused_without_grace(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    with oauth.app.app_context():
        row = (
            db.session.query(AuthorizationCode)
            .filter_by(code_hash=token_service.hash_value(code))
            .one()
        )
        assert row.expires_at - row.created_at == timedelta(seconds=60)
        row.expires_at = utcnow()
        db.session.commit()
    assert_oauth_error(oauth.exchange(rp, code), 400, "invalid_grant")


def test_a_replayed_code_is_refused_and_revokes_what_it_issued(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp, scope="openid offline_access")
    first = oauth.exchange(rp, code).get_json()
    refreshed = oauth.token(
        rp, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).get_json()
    replay = oauth.exchange(rp, code)
    assert_oauth_error(replay, 400, "invalid_grant")
    with oauth.app.app_context():
        assert token_service.find_active_access_token(first["access_token"]) is None
        assert token_service.find_active_access_token(refreshed["access_token"]) is None
        assert not token_service.refresh_token_active(
            token_service.find_by_refresh_token(refreshed["refresh_token"])
        )


def test_code_is_bound_to_pkce_verifier(oauth, rp, member_id):
    oauth.login(member_id)
    pkce = PKCE.new()
    code, _ = oauth.code(rp, code_challenge=pkce.challenge, code_challenge_method="S256")
    assert_oauth_error(oauth.exchange(rp, code), 400, "invalid_request")
    wrong = PKCE.new().verifier
    assert_oauth_error(oauth.exchange(rp, code, code_verifier=wrong), 400, "invalid_grant")
    assert_oauth_error(oauth.exchange(rp, code, code_verifier="short"), 400, "invalid_request")
    assert oauth.exchange(rp, code, code_verifier=pkce.verifier).status_code == 200


def test_a_verifier_without_a_challenge_is_refused(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    response = oauth.exchange(rp, code, code_verifier=PKCE.new().verifier)
    assert_oauth_error(response, 400, "invalid_request")


def test_public_client_must_use_pkce(oauth, member_id):
    rp = oauth.client(scope="openid offline_access", public=True)
    assert rp.secret is None
    oauth.login(member_id)
    params = redirect_params(oauth.authorize(rp, state="p"))
    assert params["error"] == "invalid_request" and params["state"] == "p" and params["iss"]
    pkce = PKCE.new()
    code, _ = oauth.code(
        rp,
        scope="openid offline_access",
        code_challenge=pkce.challenge,
        code_challenge_method="S256",
    )
    assert_oauth_error(oauth.exchange(rp, code), 400, "invalid_request")
    body = oauth.exchange(rp, code, code_verifier=pkce.verifier).get_json()
    assert body["access_token"] and body["refresh_token"]
    # A public client cannot use client_credentials at all.
    response = oauth.token(rp, grant_type="client_credentials", client_id=rp.client_id)
    assert_oauth_error(response, 401, "invalid_client")


def test_withdrawn_consent_stops_a_pending_code(oauth, rp, member_id):
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    with oauth.app.app_context():
        consent = db.session.query(Consent).filter_by(client_id=rp.pk).one()
        withdraw_partner_access(consent.member_id, consent.client.partner_id)
    assert_oauth_error(oauth.exchange(rp, code), 400, "invalid_grant")
    with oauth.app.app_context():
        assert db.session.query(Token).filter_by(client_id=rp.pk).count() == 0
