"""DPoP with a pushed authorization request (RFC 9449 §10.1).

A proof sent with the push binds the code to the proof's key, as ``dpop_jkt``
would; a ``dpop_jkt`` of another key, or a proof for another endpoint, is
refused and nothing is stored.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import PushedAuthorizationRequest
from tests.dpop_proofs import ISSUER, TOKEN_URL, DPoPKey
from tests.oauth.conftest import PKCE, redirect_params
from tests.oauth.pushing import authorize_with, push, stored_count

PAR_URL = ISSUER + "/oauth/par"


def test_a_proof_with_the_push_binds_the_code_to_its_key(oauth, member_id, app):
    public = oauth.client(public=True, scope="openid email")
    key, pkce = DPoPKey.ec(), PKCE.new()
    response = push(oauth, public, headers={"DPoP": key.proof("POST", PAR_URL)}, pkce=pkce)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        row = db.session.scalars(
            select(PushedAuthorizationRequest).where(
                PushedAuthorizationRequest.client_id == public.pk
            )
        ).one()
        assert row.parameters["dpop_jkt"] == [key.jkt]

    oauth.login(member_id)
    answered = authorize_with(oauth.http, public.client_id, response.get_json()["request_uri"])
    if answered.headers["Location"].startswith("/consent/"):
        answered = oauth.answer(answered)
    code = redirect_params(answered)["code"]

    # Without a proof of that key the code is not redeemed, and not spent either.
    thief = oauth.exchange(public, code, code_verifier=pkce.verifier)
    assert thief.status_code == 400
    assert thief.get_json()["error"] == "invalid_dpop_proof"
    other = oauth.exchange(
        public,
        code,
        code_verifier=pkce.verifier,
        headers={"DPoP": DPoPKey.ec().proof("POST", TOKEN_URL)},
    )
    assert other.status_code == 400 and other.get_json()["error"] == "invalid_grant"

    tokens = oauth.exchange(
        public, code, code_verifier=pkce.verifier, headers={"DPoP": key.proof("POST", TOKEN_URL)}
    )
    assert tokens.status_code == 200, tokens.get_json()
    assert tokens.get_json()["token_type"] == "DPoP"


def test_a_dpop_jkt_of_another_key_than_the_proof_is_refused(oauth, app):
    public = oauth.client(public=True, scope="openid email")
    key = DPoPKey.ec()
    before = stored_count(app)
    response = push(
        oauth, public, headers={"DPoP": key.proof("POST", PAR_URL)}, dpop_jkt=DPoPKey.ec().jkt
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"
    assert stored_count(app) == before
    same = push(oauth, public, headers={"DPoP": key.proof("POST", PAR_URL)}, dpop_jkt=key.jkt)
    assert same.status_code == 201, same.get_json()


def test_a_proof_for_another_endpoint_is_refused(oauth, rp, app):
    before = stored_count(app)
    headers = {**rp.basic(), "DPoP": DPoPKey.ec().proof("POST", TOKEN_URL)}
    response = push(oauth, rp, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"
    assert "DPoP-Nonce" in response.headers
    assert stored_count(app) == before
