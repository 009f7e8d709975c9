"""Token revocation (RFC 7009)."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.models import AuditEvent
from idp.services import tokens as token_service


def revoke(oauth, rp, token, **form):
    return oauth.http.post("/oauth/revoke", data={"token": token, **form}, headers=rp.basic())


def active(oauth, access_token) -> bool:
    with oauth.app.app_context():
        return token_service.find_active_access_token(access_token) is not None


def test_revoking_an_access_token(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    response = revoke(oauth, rp, body["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert not active(oauth, body["access_token"])
    with oauth.app.app_context():
        event = db.session.query(AuditEvent).filter_by(event="token.revoked").one()
        assert body["access_token"] not in str(event.details)


def test_revoking_a_refresh_token_revokes_its_family(oauth, rp, member_id):
    oauth.login(member_id)
    first = oauth.tokens(rp, scope="openid offline_access")
    second = oauth.token(
        rp, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).get_json()
    # The wrong hint does not stop the server from finding it (§2.1).
    assert (
        revoke(oauth, rp, second["refresh_token"], token_type_hint="access_token").status_code
        == 200
    )
    assert not active(oauth, second["access_token"])
    assert not active(oauth, first["access_token"])
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_another_clients_token_is_left_alone_and_nothing_is_said(oauth, rp, member_id):
    other = oauth.client(scope="openid")
    oauth.login(member_id)
    body = oauth.tokens(rp)
    response = revoke(oauth, other, body["access_token"])
    assert response.status_code == 200
    assert active(oauth, body["access_token"])


@pytest.mark.parametrize("token", ["unknown-token", "x" * 5000])
def test_unknown_tokens_get_200(oauth, rp, token):
    assert revoke(oauth, rp, token).status_code == 200


def test_revocation_errors(oauth, rp):
    missing = oauth.http.post("/oauth/revoke", data={}, headers=rp.basic())
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"
    unauthenticated = oauth.http.post("/oauth/revoke", data={"token": "t"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.get_json()["error"] == "invalid_client"
    wrong = oauth.http.post(
        "/oauth/revoke",
        data={"token": "t", "client_id": rp.client_id, "client_secret": "nope"},
    )
    assert wrong.status_code == 401
    get = oauth.http.get("/oauth/revoke?token=t", headers=rp.basic())
    assert get.status_code == 400 and get.get_json()["error"] == "invalid_request"


def test_public_client_revokes_with_its_client_id(oauth, member_id):
    rp = oauth.client(scope="openid offline_access", public=True)
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    response = oauth.http.post(
        "/oauth/revoke", data={"token": body["refresh_token"], "client_id": rp.client_id}
    )
    assert response.status_code == 200
    assert not active(oauth, body["access_token"])
