"""Unit tests for the subtle parts under the protocol: subjects, tokens, signing keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt

from idp.extensions import db
from idp.models.types import utcnow
from idp.oauth.claims import claims_for_scopes
from idp.services import signing_keys, subjects, tokens
from idp.services.members import replace_card_number
from tests.factories import make_client, make_member, make_partner


def test_pairwise_subject_is_stable_per_sector_and_differs_between_sectors(app_ctx):
    member, _, _ = make_member()
    partner = make_partner()
    a1, _ = make_client(partner, redirect_uris=["https://shop.example/cb"])
    a2, _ = make_client(partner, redirect_uris=["https://shop.example/other"])
    b, _ = make_client(partner, redirect_uris=["https://hotel.example/cb"])
    assert subjects.subject_for(member, a1) == subjects.subject_for(member, a2)
    assert subjects.subject_for(member, a1) != subjects.subject_for(member, b)
    assert member.id not in subjects.subject_for(member, a1)


def test_subject_survives_a_card_number_change(app_ctx):
    member, _, _ = make_member()
    client, _ = make_client()
    before = subjects.subject_for(member, client)
    old_card = member.card_number
    replace_card_number(member, "lost_card")
    assert member.card_number != old_card
    assert subjects.subject_for(member, client) == before


def test_public_subject_for_first_party_clients(app_ctx):
    member, _, _ = make_member()
    client, _ = make_client(first_party=True)
    assert subjects.subject_for(member, client) == member.id


def test_access_tokens_are_stored_as_hashes_and_expire_without_grace(app_ctx):
    member, _, _ = make_member()
    client, _ = make_client(access_token_ttl=60)
    issued = tokens.issue(client, scope="openid", member_id=member.id, with_refresh=True)
    db.session.commit()
    assert issued.access_token not in (issued.row.access_token_hash, issued.row.refresh_token_hash)
    assert tokens.find_active_access_token(issued.access_token).id == issued.row.id
    issued.row.access_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert tokens.find_active_access_token(issued.access_token) is None


def test_refresh_token_can_be_claimed_once_and_family_revocation(app_ctx):
    member, _, _ = make_member()
    client, _ = make_client()
    first = tokens.issue(client, scope="openid", member_id=member.id, with_refresh=True)
    second = tokens.issue(
        client,
        scope="openid",
        member_id=member.id,
        with_refresh=True,
        family_id=first.row.family_id,
    )
    db.session.commit()
    assert tokens.claim_refresh_token(first.row)
    assert not tokens.claim_refresh_token(first.row)
    assert tokens.revoke_family(first.row.family_id) == 2
    db.session.commit()
    assert tokens.find_active_access_token(second.access_token) is None


def test_signatures_verify_after_rotation(app_ctx):
    token = signing_keys.sign({"iss": "x", "sub": "y"})
    old_kid = signing_keys.current_key("RS256").kid
    new = signing_keys.rotate_keys()
    assert new["RS256"] != old_kid
    published = {k["kid"] for k in signing_keys.jwks()["keys"]}
    assert {old_kid, new["RS256"], new["ES256"]} <= published
    decoded = jwt.decode(token, signing_keys.public_key_set())
    assert decoded.claims["sub"] == "y"
    es = signing_keys.sign({"sub": "z"}, alg="ES256")
    assert jwt.decode(es, signing_keys.public_key_set(), algorithms=["ES256"]).claims["sub"] == "z"
    assert all("d" not in k for k in signing_keys.jwks()["keys"])


def test_retired_keys_leave_the_jwks_after_their_tokens_expired(app_ctx):
    old_kid = signing_keys.current_key("RS256").kid
    signing_keys.rotate_keys()
    row = db.session.get(signing_keys.SigningKey, old_kid)
    row.unpublish_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert old_kid not in {k["kid"] for k in signing_keys.jwks()["keys"]}


def test_claims_follow_scopes_only(app_ctx):
    member, _, _ = make_member(phone_number="+4969123456", status_tier="senator", miles_balance=42)
    claims = claims_for_scopes(member, ["openid", "email"], "sub-1")
    assert claims == {"sub": "sub-1", "email": member.email, "email_verified": True}
    miles = claims_for_scopes(member, ["openid", "miles", "status"], "s")
    assert miles["miles_balance"] == 42 and miles["status_tier"] == "senator"
    assert "card_number" not in miles


def test_issuance_names_no_scope_for_a_client_acting_for_itself(app_ctx):
    from idp.services import issuance

    client, _ = make_client()
    body = issuance.issue(issuance.TokenGrant(client, "client_credentials"))
    assert set(body) == {"access_token", "token_type", "expires_in"}
    row = tokens.find_active_access_token(body["access_token"])
    assert row.scope == "" and row.member_id is None and row.refresh_token_hash is None


def test_issuance_refuses_an_openid_grant_without_an_id_token_signer(app_ctx):
    from idp.services import issuance

    member, _, _ = make_member()
    client, _ = make_client()
    grant = issuance.TokenGrant(client, "authorization_code", scope="openid", member=member)
    with pytest.raises(ValueError, match="ID token signer"):
        issuance.issue(grant)
    db.session.rollback()
