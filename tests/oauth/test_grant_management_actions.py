"""``grant_management_action`` at the authorization endpoint (Grant Management §5.2, §5.3).

``merge`` adds to the grant only what the member allows on the consent screen;
``replace`` makes the grant exactly what the member allows now; ``create``
starts a fresh grant (a new grant_id; the old one names nothing). Nothing
widens without the consent screen, and every bad combination is an error
redirect with ``state`` and ``iss``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Consent, ConsentRecord
from tests.oauth.conftest import ISSUER, PKCE, redirect_params

SCOPE = "openid profile email card_number miles status offline_access"
CLIENT_SCOPE = f"{SCOPE} phone grant_management_query"


@pytest.fixture
def rp(oauth):
    return oauth.client("Sky Hotels", scope=CLIENT_SCOPE, purposes=["registration", "miles"])


def api_token(oauth, rp) -> str:
    response = oauth.token(rp, grant_type="client_credentials", scope="grant_management_query")
    return response.get_json()["access_token"]


def grant_of(oauth, rp, grant_id) -> dict:
    response = oauth.http.get(
        f"/oauth/grants/{grant_id}", headers={"Authorization": f"Bearer {api_token(oauth, rp)}"}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def granted(oauth, rp, grant_id) -> set[str]:
    scopes = grant_of(oauth, rp, grant_id)["scopes"]
    return set(scopes[0]["scope"].split()) if scopes else set()


def exchange(oauth, rp, response, pkce) -> dict:
    params = redirect_params(response)
    assert "code" in params, params
    body = oauth.exchange(rp, params["code"], code_verifier=pkce.verifier)
    assert body.status_code == 200, body.get_json()
    return body.get_json()


def authorize(oauth, rp, pkce, **params):
    return oauth.authorize(
        rp, code_challenge=pkce.challenge, code_challenge_method="S256", **params
    )


def records(oauth, member_id) -> int:
    with oauth.app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.member_id == member_id)
        )


def test_merge_adds_only_what_the_member_allows(oauth, rp, member_id):
    oauth.login(member_id)
    grant_id = oauth.tokens(rp, scope="openid email")["grant_id"]

    # Nothing new asked: no screen, the same grant.
    pkce = PKCE.new()
    response = authorize(
        oauth, rp, pkce, scope="openid email", grant_management_action="merge", grant_id=grant_id
    )
    assert exchange(oauth, rp, response, pkce)["grant_id"] == grant_id

    # More asked: the screen shows it; the member unticks phone.
    pkce = PKCE.new()
    response = authorize(
        oauth,
        rp,
        pkce,
        scope="openid profile phone",
        grant_management_action="merge",
        grant_id=grant_id,
    )
    response = oauth.answer(response, scopes=["profile"])
    body = exchange(oauth, rp, response, pkce)
    assert body["grant_id"] == grant_id
    assert granted(oauth, rp, grant_id) == {"openid", "email", "profile"}


def test_replace_makes_the_grant_what_the_member_allows_now(oauth, rp, member_id):
    oauth.login(member_id)
    first = oauth.tokens(rp, scope="openid email profile offline_access")
    grant_id = first["grant_id"]
    before = records(oauth, member_id)

    # The screen always shows for a replace, even when nothing new is asked.
    pkce = PKCE.new()
    response = authorize(
        oauth, rp, pkce, scope="openid email", grant_management_action="replace", grant_id=grant_id
    )
    response = oauth.answer(response)
    body = exchange(oauth, rp, response, pkce)
    assert body["grant_id"] == grant_id
    assert granted(oauth, rp, grant_id) == {"openid", "email"}
    assert records(oauth, member_id) == before + 1
    # The replaced grant's refresh token ends.
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 400


def test_replace_with_prompt_none_needs_the_screen(oauth, rp, member_id):
    oauth.login(member_id)
    grant_id = oauth.tokens(rp, scope="openid email")["grant_id"]
    pkce = PKCE.new()
    response = authorize(
        oauth,
        rp,
        pkce,
        scope="openid email",
        grant_management_action="replace",
        grant_id=grant_id,
        prompt="none",
    )
    assert redirect_params(response)["error"] == "consent_required"


def test_create_starts_a_fresh_grant(oauth, rp, member_id):
    oauth.login(member_id)
    old = oauth.tokens(rp, scope="openid email profile")["grant_id"]
    pkce = PKCE.new()
    response = authorize(oauth, rp, pkce, scope="openid email", grant_management_action="create")
    body = exchange(oauth, rp, oauth.answer(response), pkce)
    new = body["grant_id"]
    assert new != old
    assert granted(oauth, rp, new) == {"openid", "email"}
    gone = oauth.http.get(
        f"/oauth/grants/{old}", headers={"Authorization": f"Bearer {api_token(oauth, rp)}"}
    )
    assert gone.status_code == 404
    # The old identifier cannot be merged into either.
    response = oauth.authorize(rp, scope="openid", grant_management_action="merge", grant_id=old)
    assert redirect_params(response)["error"] == "invalid_grant_id"


def test_deny_on_a_replace_leaves_the_grant(oauth, rp, member_id):
    oauth.login(member_id)
    grant_id = oauth.tokens(rp, scope="openid email profile")["grant_id"]
    response = oauth.authorize(
        rp, scope="openid email", grant_management_action="replace", grant_id=grant_id
    )
    response = oauth.answer(response, decision="deny")
    assert redirect_params(response)["error"] == "access_denied"
    assert granted(oauth, rp, grant_id) == {"openid", "email", "profile"}


def test_a_grant_of_another_member_or_client_is_invalid_grant_id(oauth, rp, member_id):
    other_member = oauth.member(email="other@example.com")
    other_client = oauth.client("Other Co", scope=CLIENT_SCOPE, purposes=["registration", "miles"])
    oauth.login(other_member)
    theirs = oauth.tokens(rp, scope="openid email")["grant_id"]
    other_clients = oauth.tokens(other_client, scope="openid email")["grant_id"]
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    for grant_id in (theirs, other_clients, "A" * 43):
        response = oauth.authorize(
            rp, scope="openid", grant_management_action="merge", grant_id=grant_id
        )
        params = redirect_params(response)
        assert params["error"] == "invalid_grant_id", grant_id
        assert params["iss"] == ISSUER and params["state"].startswith("state-")
    # The other member's grant is unchanged.
    with oauth.app.app_context():
        assert db.session.scalar(select(Consent).where(Consent.grant_id == theirs)) is not None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"grant_management_action": "update"}, "invalid_request"),
        ({"grant_management_action": ""}, "invalid_request"),
        ({"grant_management_action": "merge"}, "invalid_request"),
        ({"grant_management_action": "replace"}, "invalid_request"),
        ({"grant_id": "x" * 43}, "invalid_request"),
        ({"grant_management_action": "create", "grant_id": "x" * 43}, "invalid_request"),
        ({"grant_management_action": "merge", "grant_id": "not a grant!"}, "invalid_grant_id"),
        ({"grant_management_action": "merge", "grant_id": "x" * 300}, "invalid_grant_id"),
    ],
)
def test_bad_grant_management_parameters_are_error_redirects(oauth, rp, params, error):
    # Checked before any login: the redirect goes back at once.
    response = oauth.authorize(rp, scope="openid", **params)
    assert response.status_code == 302
    result = redirect_params(response)
    assert result["error"] == error, result
    assert result["iss"] == ISSUER


def test_public_clients_do_not_manage_grants(oauth):
    public = oauth.client("App Co", scope="openid email", public=True)
    pkce = PKCE.new()
    response = authorize(oauth, public, pkce, grant_management_action="create")
    assert redirect_params(response)["error"] == "invalid_request"
