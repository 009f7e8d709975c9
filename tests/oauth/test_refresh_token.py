"""Refresh tokens: only with offline_access, rotated on each use, reuse revokes the grant,
and they end with the member's consent (RFC 6749 §6, RFC 9700 §4.14, SPEC.md §6)."""

from __future__ import annotations

from idp.extensions import db
from idp.models import Consent
from idp.models.types import utcnow
from idp.services import tokens as token_service
from idp.services.withdrawal import withdraw_partner_access
from tests.oauth.conftest import redirect_params


def refresh(oauth, rp, refresh_token, **form):
    return oauth.token(rp, grant_type="refresh_token", refresh_token=refresh_token, **form)


def error_of(response, status=400):
    assert response.status_code == status, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["error"]


def test_refresh_rotates_and_returns_a_new_id_token(oauth, rp, member_id):
    oauth.login(member_id)
    first = oauth.tokens(rp, scope="openid email offline_access")
    response = refresh(oauth, rp, first["refresh_token"])
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "openid email offline_access"
    old = oauth.id_token_claims(first["id_token"])
    new = oauth.id_token_claims(second["id_token"])
    assert new["sub"] == old["sub"] and new["auth_time"] == old["auth_time"]
    assert "nonce" not in new
    # The new one works in turn.
    assert refresh(oauth, rp, second["refresh_token"]).status_code == 200


def test_reusing_a_refresh_token_revokes_the_whole_grant(oauth, rp, member_id):
    oauth.login(member_id)
    first = oauth.tokens(rp, scope="openid offline_access")
    second = refresh(oauth, rp, first["refresh_token"]).get_json()
    assert error_of(refresh(oauth, rp, first["refresh_token"])) == "invalid_grant"
    assert error_of(refresh(oauth, rp, second["refresh_token"])) == "invalid_grant"
    with oauth.app.app_context():
        assert token_service.find_active_access_token(second["access_token"]) is None
        assert token_service.find_active_access_token(first["access_token"]) is None


def test_refresh_token_of_another_client_or_unknown_is_invalid_grant(oauth, rp, member_id):
    other = oauth.client(scope="openid offline_access")
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    assert error_of(refresh(oauth, other, body["refresh_token"])) == "invalid_grant"
    assert error_of(refresh(oauth, rp, "unknown")) == "invalid_grant"
    assert error_of(oauth.token(rp, grant_type="refresh_token")) == "invalid_request"
    # The other client's attempt did not spend it.
    assert refresh(oauth, rp, body["refresh_token"]).status_code == 200


def test_narrower_scope_is_allowed_a_wider_one_is_not(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid email offline_access")
    assert error_of(refresh(oauth, rp, body["refresh_token"], scope="openid phone")) == (
        "invalid_scope"
    )
    narrower = refresh(oauth, rp, body["refresh_token"], scope="openid offline_access")
    assert narrower.status_code == 200
    assert narrower.get_json()["scope"] == "openid offline_access"


def test_limited_consent_ends_the_refresh_token(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    with oauth.app.app_context():
        consent = db.session.query(Consent).filter_by(client_id=rp.pk).one()
        row = token_service.find_by_refresh_token(body["refresh_token"])
        assert consent.expires_at is not None
        assert row.refresh_expires_at == consent.expires_at
        row.refresh_expires_at = consent.expires_at = utcnow()
        db.session.commit()
    assert error_of(refresh(oauth, rp, body["refresh_token"])) == "invalid_grant"


def test_unlimited_consent_gives_a_refresh_token_without_end(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope="openid offline_access"), unlimited=True)
    body = oauth.exchange(rp, redirect_params(response)["code"]).get_json()
    with oauth.app.app_context():
        assert token_service.find_by_refresh_token(body["refresh_token"]).refresh_expires_at is None
    rotated = refresh(oauth, rp, body["refresh_token"]).get_json()
    with oauth.app.app_context():
        row = token_service.find_by_refresh_token(rotated["refresh_token"])
        assert row.refresh_expires_at is None


def test_withdrawn_consent_ends_refresh_tokens_at_once(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    with oauth.app.app_context():
        consent = db.session.query(Consent).filter_by(client_id=rp.pk).one()
        withdraw_partner_access(consent.member_id, consent.client.partner_id)
    assert error_of(refresh(oauth, rp, body["refresh_token"])) == "invalid_grant"


def test_public_client_refreshes_with_its_client_id(oauth, member_id):
    rp = oauth.client(scope="openid offline_access", public=True)
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    response = oauth.token(
        rp, grant_type="refresh_token", refresh_token=body["refresh_token"], client_id=rp.client_id
    )
    assert response.status_code == 200 and response.get_json()["refresh_token"]
