"""Token introspection (RFC 7662), for access and refresh tokens."""

from __future__ import annotations

import time

from idp.extensions import db
from idp.models import Consent, Member
from idp.models.types import utcnow
from idp.services import tokens as token_service
from idp.services.registration import get_client
from idp.services.subjects import subject_for
from tests.oauth.conftest import ISSUER, redirect_params


def introspect(oauth, rp, token, **form):
    return oauth.http.post("/oauth/introspect", data={"token": token, **form}, headers=rp.basic())


def test_active_access_token(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid email")
    response = introspect(oauth, rp, body["access_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    info = response.get_json()
    assert info["active"] is True
    assert info["scope"] == "openid email"
    assert info["client_id"] == rp.client_id
    assert info["token_type"] == "Bearer"
    assert info["iss"] == ISSUER
    assert info["iat"] <= time.time() < info["exp"]
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        assert info["sub"] == subject_for(member, get_client(rp.client_id))


def test_limited_refresh_token_has_exp(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    info = introspect(oauth, rp, body["refresh_token"], token_type_hint="refresh_token").get_json()
    assert info["active"] is True
    with oauth.app.app_context():
        consent = db.session.query(Consent).filter_by(client_id=rp.pk).one()
        assert info["exp"] == int(consent.expires_at.timestamp())


def test_refresh_token_without_time_limit_has_no_exp(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope="openid offline_access"), unlimited=True)
    body = oauth.exchange(rp, redirect_params(response)["code"]).get_json()
    info = introspect(oauth, rp, body["refresh_token"]).get_json()
    assert info["active"] is True
    assert "exp" not in info


def test_another_clients_token_is_inactive(oauth, rp, member_id):
    other = oauth.client(scope="openid")
    oauth.login(member_id)
    body = oauth.tokens(rp)
    assert introspect(oauth, other, body["access_token"]).get_json() == {"active": False}


def test_revoked_used_and_unknown_tokens_are_inactive(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    oauth.token(rp, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert introspect(oauth, rp, body["refresh_token"]).get_json() == {"active": False}
    oauth.http.post("/oauth/revoke", data={"token": body["access_token"]}, headers=rp.basic())
    assert introspect(oauth, rp, body["access_token"]).get_json() == {"active": False}
    assert introspect(oauth, rp, "unknown").get_json() == {"active": False}


def test_client_credentials_token_introspects_with_the_client_as_subject(oauth, rp):
    token = oauth.token(rp, grant_type="client_credentials").get_json()["access_token"]
    info = introspect(oauth, rp, token).get_json()
    assert info["active"] is True and info["sub"] == rp.client_id and info["scope"] == ""


def test_introspection_errors(oauth, rp, member_id):
    missing = oauth.http.post("/oauth/introspect", data={}, headers=rp.basic())
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"
    anonymous = oauth.http.post("/oauth/introspect", data={"token": "t"})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_client"
    public = oauth.client(scope="openid", public=True)
    response = oauth.http.post(
        "/oauth/introspect", data={"token": "t", "client_id": public.client_id}
    )
    assert response.status_code == 401


def test_expired_access_token_is_inactive_without_grace(oauth, member_id):
    rp = oauth.client(scope="openid", access_token_ttl=1)
    oauth.login(member_id)
    body = oauth.tokens(rp)
    assert body["expires_in"] == 1
    with oauth.app.app_context():
        row = token_service.find_by_access_token(body["access_token"])
        row.access_expires_at = utcnow()
        db.session.commit()
    assert introspect(oauth, rp, body["access_token"]).get_json() == {"active": False}
