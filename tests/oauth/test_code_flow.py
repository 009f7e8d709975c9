"""The authorization code flow end to end, with the ID token checked against the JWKS."""

from __future__ import annotations

import json
import time

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt

from idp.extensions import db
from idp.models import AuthorizationCode, Member, Token
from idp.services import tokens as token_service
from idp.services.subjects import subject_for
from tests.oauth.conftest import ISSUER, PKCE, redirect_params, redirect_target


def test_code_flow_issues_tokens_and_a_verifiable_id_token(oauth, rp, member_id):
    sid = oauth.login(member_id)
    pkce = PKCE.new()
    response = oauth.authorize(
        rp,
        scope="openid email offline_access",
        state="xyz",
        nonce="n-0S6_WzA2Mj",
        code_challenge=pkce.challenge,
        code_challenge_method="S256",
    )
    response = oauth.answer(response)
    assert redirect_target(response) == rp.redirect_uri
    params = redirect_params(response)
    assert params["state"] == "xyz"
    assert params["iss"] == ISSUER
    assert len(params["code"]) >= 43  # 256 bits, url-safe base64

    token_response = oauth.exchange(rp, params["code"], code_verifier=pkce.verifier)
    assert token_response.status_code == 200
    assert token_response.headers["Cache-Control"] == "no-store"
    assert token_response.headers["Pragma"] == "no-cache"
    body = token_response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid email offline_access"
    assert body["refresh_token"]

    claims = oauth.id_token_claims(body["id_token"])
    now = time.time()
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["sid"] == sid
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == "urn:mam:acr:2fa"
    assert claims["iat"] <= now < claims["exp"]
    assert abs(claims["auth_time"] - now) < 60
    assert claims["at_hash"] == create_half_hash(body["access_token"], "RS256").decode()
    assert "email" not in claims  # member claims go to UserInfo unless asked for here
    assert "azp" not in claims
    header = jwt.decode(body["id_token"], oauth.keys()).header
    assert header["alg"] == "RS256" and header["kid"]

    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        row = token_service.find_active_access_token(body["access_token"])
        assert row is not None and row.member_id == member_id and row.sid == sid
        assert claims["sub"] == subject_for(member, row.client)
        assert claims["sub"] != member_id  # pairwise by default


def test_codes_and_tokens_are_stored_only_as_hashes(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid offline_access")
    with oauth.app.app_context():
        stored = json.dumps(
            [
                [r.access_token_hash, r.refresh_token_hash]
                for r in db.session.query(Token).filter_by(client_id=rp.pk)
            ]
        )
        codes = [
            c.code_hash for c in db.session.query(AuthorizationCode).filter_by(client_id=rp.pk)
        ]
    assert body["access_token"] not in stored and body["refresh_token"] not in stored
    assert token_service.hash_value(body["access_token"]) in stored
    assert len(codes) == 1 and len(codes[0]) == 64


def test_claims_parameter_puts_claims_in_the_id_token(oauth, rp, member_id):
    oauth.login(member_id)
    claims_request = {"id_token": {"email": {"essential": True}, "miles_balance": None}}
    body = oauth.tokens(rp, scope="openid email", claims=json.dumps(claims_request))
    claims = oauth.id_token_claims(body["id_token"])
    assert claims["email"].startswith("member-")
    # miles was not granted, so the claims parameter cannot release it.
    assert "miles_balance" not in claims
    with oauth.app.app_context():
        row = token_service.find_by_access_token(body["access_token"])
        assert row.claims == {"id_token": claims_request["id_token"]}


def test_public_subject_for_first_party_clients(oauth, member_id):
    rp = oauth.client(first_party=True, scope="openid")
    oauth.login(member_id)
    claims = oauth.id_token_claims(oauth.tokens(rp)["id_token"])
    assert claims["sub"] == member_id


def test_pairwise_subjects_differ_between_sectors_and_stay_stable(oauth, member_id):
    shop = oauth.client(scope="openid", redirect_uris=["https://shop.example/cb"])
    hotel = oauth.client(scope="openid", redirect_uris=["https://hotel.example/cb"])
    oauth.login(member_id)
    first = oauth.id_token_claims(oauth.tokens(shop)["id_token"])["sub"]
    again = oauth.id_token_claims(oauth.tokens(shop)["id_token"])["sub"]
    other = oauth.id_token_claims(oauth.tokens(hotel)["id_token"])["sub"]
    assert first == again != other


def test_es256_client_gets_es256_id_tokens(oauth, member_id):
    rp = oauth.client(scope="openid", id_token_signed_response_alg="ES256")
    oauth.login(member_id)
    body = oauth.tokens(rp)
    decoded = jwt.decode(body["id_token"], oauth.keys(), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.claims["at_hash"] == create_half_hash(body["access_token"], "ES256").decode()


def test_authorization_request_by_post(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, method="POST", state="posted")
    response = oauth.answer(response)
    params = redirect_params(response)
    assert params["state"] == "posted" and params["code"]


def test_without_offline_access_there_is_no_refresh_token(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid email")
    assert "refresh_token" not in body
