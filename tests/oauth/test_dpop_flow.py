"""The code flow with DPoP (RFC 9449 §5, §10), refresh included, and unlimited grants.

A public client binds its code with ``dpop_jkt`` and redeems it with a proof
of that key; its access and refresh tokens are then bound to the key, and a
refresh with another key or none is refused without spending anything. A
confidential client's access tokens are bound, its refresh tokens are not.

An unlimited grant to a public client is only ever DPoP-bound: the consent
screen offers "Allow access without time limit" to a public client only when
the request carries ``dpop_jkt``, and the token endpoint issues the refresh
token of a standing unlimited consent to a public client only with a proof.
"""

from __future__ import annotations

import pytest

from idp.services.registration import get_client
from tests.dpop_proofs import TOKEN_URL, USERINFO_URL, DPoPKey
from tests.factories import make_consent
from tests.oauth.conftest import PKCE, redirect_params

SCOPE = "openid email offline_access"
UNLIMITED_LABEL = "Allow access without time limit"


@pytest.fixture
def app_rp(oauth):
    """A public client (a mobile or browser app) allowed offline access."""
    return oauth.client(
        public=True, scope="openid profile email offline_access", purposes=["registration"]
    )


def authorize_bound(oauth, rp, key: DPoPKey | None, unlimited=False, **params):
    """(code, PKCE) after the consent screen; the code bound to ``key`` when given."""
    pkce = PKCE.new()
    if key is not None:
        params["dpop_jkt"] = key.jkt
    response = oauth.authorize(
        rp, scope=SCOPE, code_challenge=pkce.challenge, code_challenge_method="S256", **params
    )
    if response.headers["Location"].startswith("/consent/"):
        response = oauth.answer(response, unlimited=unlimited)
    return redirect_params(response)["code"], pkce


def exchange(oauth, rp, code, pkce, key: DPoPKey | None):
    headers = dict(rp.basic()) if rp.secret else {}
    if key is not None:
        headers["DPoP"] = key.proof("POST", TOKEN_URL)
    return oauth.exchange(rp, code, code_verifier=pkce.verifier, headers=headers)


def refresh(oauth, rp, refresh_token, key: DPoPKey | None):
    headers = dict(rp.basic()) if rp.secret else {}
    if key is not None:
        headers["DPoP"] = key.proof("POST", TOKEN_URL)
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if not rp.secret:
        form["client_id"] = rp.client_id
    return oauth.token(rp, headers=headers, **form)


def userinfo(oauth, access_token, key: DPoPKey):
    return oauth.http.get(
        "/oauth/userinfo",
        headers={
            "Authorization": f"DPoP {access_token}",
            "DPoP": key.proof("GET", USERINFO_URL, access_token=access_token),
        },
    )


def consent_page(oauth, rp, **params) -> str:
    pkce = PKCE.new()
    response = oauth.authorize(
        rp, scope=SCOPE, code_challenge=pkce.challenge, code_challenge_method="S256", **params
    )
    _, page = oauth.consent_page(response)
    return page.get_data(as_text=True)


# -- the public client, bound from the authorization request on ------------------------


def test_a_public_client_runs_the_whole_flow_bound_to_its_key(oauth, member_id, app_rp):
    key = DPoPKey.ec()
    oauth.login(member_id)
    code, pkce = authorize_bound(oauth, app_rp, key, unlimited=True)
    response = exchange(oauth, app_rp, code, pkce, key)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    assert response.headers["DPoP-Nonce"]
    assert userinfo(oauth, body["access_token"], key).status_code == 200

    renewed = refresh(oauth, app_rp, body["refresh_token"], key)
    assert renewed.status_code == 200, renewed.get_json()
    assert renewed.get_json()["token_type"] == "DPoP"
    assert userinfo(oauth, renewed.get_json()["access_token"], key).status_code == 200


def test_a_bound_code_needs_a_proof_of_its_key_and_is_not_spent_by_others(oauth, member_id, app_rp):
    key = DPoPKey.ec()
    oauth.login(member_id)
    code, pkce = authorize_bound(oauth, app_rp, key)

    without = exchange(oauth, app_rp, code, pkce, None)
    assert without.status_code == 400
    assert without.get_json()["error"] == "invalid_dpop_proof"
    other_key = exchange(oauth, app_rp, code, pkce, DPoPKey.ec())
    assert other_key.status_code == 400
    assert other_key.get_json()["error"] == "invalid_grant"

    response = exchange(oauth, app_rp, code, pkce, key)
    assert response.status_code == 200, response.get_json()


def test_a_public_clients_refresh_token_needs_the_same_key(oauth, member_id, app_rp):
    key = DPoPKey.ec()
    oauth.login(member_id)
    code, pkce = authorize_bound(oauth, app_rp, key)
    body = exchange(oauth, app_rp, code, pkce, key).get_json()

    stolen = refresh(oauth, app_rp, body["refresh_token"], None)
    assert stolen.status_code == 400
    assert stolen.get_json()["error"] == "invalid_dpop_proof"
    thief = refresh(oauth, app_rp, body["refresh_token"], DPoPKey.ec())
    assert thief.status_code == 400
    assert thief.get_json()["error"] == "invalid_grant"

    # Neither attempt spent the refresh token nor revoked the grant.
    assert userinfo(oauth, body["access_token"], key).status_code == 200
    assert refresh(oauth, app_rp, body["refresh_token"], key).status_code == 200


def test_a_malformed_dpop_jkt_is_refused_at_the_authorization_endpoint(oauth, member_id, app_rp):
    oauth.login(member_id)
    pkce = PKCE.new()
    response = oauth.authorize(
        app_rp, scope=SCOPE, code_challenge=pkce.challenge, code_challenge_method="S256",
        dpop_jkt="not a thumbprint",
    )  # fmt: skip
    assert redirect_params(response)["error"] == "invalid_request"


# -- confidential clients ----------------------------------------------------------------


def test_a_confidential_clients_access_token_is_bound_its_refresh_token_is_not(
    oauth, member_id, rp
):
    key = DPoPKey.ec()
    oauth.login(member_id)
    code, pkce = authorize_bound(oauth, rp, None)
    response = exchange(oauth, rp, code, pkce, key)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"

    introspect = lambda token: oauth.http.post(  # noqa: E731
        "/oauth/introspect", data={"token": token}, headers=rp.basic()
    ).get_json()
    assert introspect(body["access_token"])["cnf"] == {"jkt": key.jkt}
    assert "cnf" not in introspect(body["refresh_token"])

    renewed = refresh(oauth, rp, body["refresh_token"], None)
    assert renewed.status_code == 200, renewed.get_json()
    assert renewed.get_json()["token_type"] == "Bearer"


# -- an unlimited grant to a public client ---------------------------------------------


def test_the_screen_offers_unlimited_access_to_a_public_client_only_with_dpop_jkt(
    oauth, member_id, app_rp, rp
):
    oauth.login(member_id)
    assert UNLIMITED_LABEL not in consent_page(oauth, app_rp)
    assert UNLIMITED_LABEL in consent_page(oauth, app_rp, dpop_jkt=DPoPKey.ec().jkt)
    assert UNLIMITED_LABEL in consent_page(oauth, rp)


def test_a_forged_unlimited_answer_without_dpop_jkt_gives_limited_access(oauth, member_id, app_rp):
    oauth.login(member_id)
    code, pkce = authorize_bound(oauth, app_rp, None, unlimited=True)
    body = exchange(oauth, app_rp, code, pkce, None).get_json()
    assert body["token_type"] == "Bearer"
    with oauth.app.app_context():
        from idp.services import consent as consents

        consent = consents.current_consent(member_id, get_client(app_rp.client_id))
        assert consent.unlimited is False
        assert consent.expires_at is not None


def test_a_standing_unlimited_grant_to_a_public_client_needs_a_proof(oauth, member_id, app_rp):
    with oauth.app.app_context():
        from idp.extensions import db
        from idp.models import Member

        make_consent(
            db.session.get(Member, member_id), get_client(app_rp.client_id), SCOPE,
            unlimited=True, expires_at=None,
        )  # fmt: skip
    oauth.login(member_id)
    code, pkce = authorize_bound(oauth, app_rp, None)
    refused = exchange(oauth, app_rp, code, pkce, None)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    assert "without time limit" in refused.get_json()["error_description"]

    key = DPoPKey.ec()
    code, pkce = authorize_bound(oauth, app_rp, None)
    response = exchange(oauth, app_rp, code, pkce, key)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP" and body["refresh_token"]
    # Bound: the unlimited refresh token is useless without the key.
    assert refresh(oauth, app_rp, body["refresh_token"], None).status_code == 400
    assert refresh(oauth, app_rp, body["refresh_token"], key).status_code == 200
