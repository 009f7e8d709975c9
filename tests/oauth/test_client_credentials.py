"""The client credentials grant: confidential clients only, client scopes only, no member, no ID token."""

from __future__ import annotations

from idp.extensions import db
from idp.services import tokens as token_service


def test_client_credentials_token_without_scope(oauth, rp):
    response = oauth.token(rp, grant_type="client_credentials")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "refresh_token" not in body and "id_token" not in body and "scope" not in body
    with oauth.app.app_context():
        row = token_service.find_active_access_token(body["access_token"])
        assert row.member_id is None and row.scope == ""
        db.session.rollback()


def test_a_client_scope_is_granted_and_named(oauth, rp):
    response = oauth.token(rp, grant_type="client_credentials", scope="ssf.read ssf.manage")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "ssf.read ssf.manage"


def test_any_member_scope_is_invalid_scope(oauth, rp):
    for scope in ("openid", "email", "miles", "ssf.manage openid", "ssf.nothing"):
        response = oauth.token(rp, grant_type="client_credentials", scope=scope)
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_scope"


def test_client_without_the_grant_is_unauthorized_client(oauth):
    rp = oauth.client(scope="openid", grant_types=["authorization_code"])
    response = oauth.token(rp, grant_type="client_credentials")
    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"
