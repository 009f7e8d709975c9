"""UserInfo (OIDC Core §5.3) behind bearer tokens (RFC 6750), through the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.catalog import SCOPE_CLAIMS
from idp.extensions import db
from idp.models import Consent
from idp.models.types import utcnow
from idp.services import subjects, tokens
from tests.factories import issue_token, make_client, make_member

ALL_DATA_SCOPES = "openid profile email phone address card_number status miles lhg_profiles"
REALM = 'realm="http://127.0.0.1:5000"'


@pytest.fixture
def member(app_ctx):
    member, _, _ = make_member(
        phone_number="+4969123456",
        birthdate="1980-02-29",
        gender="female",
        locale="de",
        status_tier="senator",
        miles_balance=42_000,
        status_miles=61_000,
    )
    member.address = {
        "street_address": "Lyoner Str. 1",
        "postal_code": "60528",
        "locality": "Frankfurt am Main",
        "country": "DE",
    }
    db.session.commit()
    return member


@pytest.fixture
def partner_client(app_ctx):
    client, _ = make_client(
        scope=ALL_DATA_SCOPES + " offline_access", purposes=["registration", "miles"]
    )
    return client


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


def test_get_returns_exactly_the_claims_of_the_granted_scopes(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid email")
    response = client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "sub": subjects.subject_for(member, partner_client),
        "email": member.email,
        "email_verified": True,
    }


def test_every_scope_releases_its_claims_and_nothing_else(client, member, partner_client):
    issued = issue_token(member, partner_client, ALL_DATA_SCOPES)
    claims = client.get("/oauth/userinfo", headers=bearer(issued.access_token)).get_json()
    # Empty values are left out: this member has no academic title.
    expected = {c for s in ALL_DATA_SCOPES.split() for c in SCOPE_CLAIMS[s]} - {"academic_title"}
    assert set(claims) == expected
    assert claims["lhg_profiles"] == []
    assert claims["card_number"] == member.card_number
    assert claims["miles_balance"] == 42_000
    assert claims["status_tier"] == "senator"
    assert claims["address"]["locality"] == "Frankfurt am Main"
    assert claims["phone_number"] == "+4969123456"


@pytest.mark.parametrize(
    ("scope", "absent"),
    [
        ("openid", {"email", "name", "phone_number", "address", "card_number", "miles_balance"}),
        ("openid profile", {"email", "phone_number", "card_number", "status_tier"}),
        ("openid miles", {"card_number", "status_tier", "name", "email"}),
    ],
)
def test_claims_of_ungranted_scopes_never_appear(client, member, partner_client, scope, absent):
    issued = issue_token(member, partner_client, scope)
    claims = client.get("/oauth/userinfo", headers=bearer(issued.access_token)).get_json()
    assert not absent & set(claims)
    assert claims["sub"] == subjects.subject_for(member, partner_client)


def test_subject_is_pairwise_never_the_member_id_or_card_number(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid card_number")
    claims = client.get("/oauth/userinfo", headers=bearer(issued.access_token)).get_json()
    assert claims["sub"] not in (member.id, member.card_number)


def test_scopes_the_consent_no_longer_covers_are_not_released(client, member, partner_client):
    consent = Consent(
        member_id=member.id,
        client_id=partner_client.id,
        scope="openid email",
        purposes=["registration"],
    )
    db.session.add(consent)
    db.session.commit()
    issued = issue_token(member, partner_client, "openid email profile", consent=consent)
    claims = client.get("/oauth/userinfo", headers=bearer(issued.access_token)).get_json()
    assert set(claims) == {"sub", "email", "email_verified"}


def test_post_with_the_token_in_the_form_body(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid email")
    response = client.post("/oauth/userinfo", data={"access_token": issued.access_token})
    assert response.status_code == 200
    assert response.get_json()["email"] == member.email


def test_post_with_the_authorization_header_needs_no_csrf_token(client, member, partner_client):
    assert client.application.config.get("WTF_CSRF_ENABLED", True)
    issued = issue_token(member, partner_client, "openid")
    response = client.post("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 200
    assert set(response.get_json()) == {"sub"}


def test_no_token_gets_the_bare_challenge(client, app_ctx):
    response = client.get("/oauth/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f"Bearer {REALM}"
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["Cache-Control"] == "no-store"


def test_another_authentication_scheme_counts_as_no_token(client, app_ctx):
    response = client.get("/oauth/userinfo", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f"Bearer {REALM}"


def test_a_token_in_the_query_string_is_refused(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid")
    for headers in ({}, bearer(issued.access_token)):
        response = client.get(
            "/oauth/userinfo", query_string={"access_token": issued.access_token}, headers=headers
        )
        assert response.status_code == 400
        assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]
        assert response.get_json()["error"] == "invalid_request"
    response = client.post(
        "/oauth/userinfo",
        query_string={"access_token": issued.access_token},
        data={"x": "1"},
    )
    assert response.status_code == 400


def test_a_token_sent_two_ways_is_refused(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid")
    response = client.post(
        "/oauth/userinfo",
        headers=bearer(issued.access_token),
        data={"access_token": issued.access_token},
    )
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer two words"])
def test_a_malformed_authorization_header_is_an_invalid_request(client, app_ctx, header):
    response = client.get("/oauth/userinfo", headers={"Authorization": header})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


def test_an_empty_or_repeated_form_token_is_an_invalid_request(client, app_ctx):
    assert client.post("/oauth/userinfo", data={"access_token": ""}).status_code == 400
    response = client.post("/oauth/userinfo", data={"access_token": ["a", "b"]})
    assert response.status_code == 400


def test_a_form_token_in_a_multipart_body_is_not_accepted(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid")
    response = client.post(
        "/oauth/userinfo",
        data={"access_token": issued.access_token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401  # §2.2: single-part form-encoded bodies only
    assert response.headers["WWW-Authenticate"] == f"Bearer {REALM}"


@pytest.mark.parametrize("value", ["not-a-token-we-issued", "bad\u00e9chars", "x" * 5000])
def test_unknown_or_malformed_tokens_are_invalid(client, app_ctx, value):
    response = client.get("/oauth/userinfo", headers=bearer(value))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f"Bearer {REALM}, ")
    assert 'error="invalid_token"' in challenge
    assert response.get_json()["error"] == "invalid_token"


def test_a_revoked_token_is_refused_at_once(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid")
    assert client.get("/oauth/userinfo", headers=bearer(issued.access_token)).status_code == 200
    tokens.revoke_row(issued.row)
    db.session.commit()
    response = client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_expired_token_is_refused_without_grace(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid")
    issued.row.access_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_withdrawn_consent_stops_the_token_at_once(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid email")
    consent = db.session.get(Consent, issued.row.consent_id)
    consent.withdrawn_at = utcnow()
    db.session.commit()
    response = client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 401


def test_a_token_without_openid_has_insufficient_scope(client, member, partner_client):
    issued = issue_token(member, partner_client, "email")
    response = client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="openid"' in challenge
    assert response.get_json()["scope"] == "openid"


def test_a_client_credentials_token_has_no_member_to_describe(client, partner_client):
    issued = issue_token(None, partner_client, "openid")
    response = client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_last_use_is_recorded_at_most_once_a_minute(client, member, partner_client):
    issued = issue_token(member, partner_client, "openid")
    consent = db.session.get(Consent, issued.row.consent_id)
    assert consent.last_used_at is None

    client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    db.session.refresh(consent)
    first = consent.last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=10)

    client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    db.session.refresh(consent)
    assert consent.last_used_at == first

    consent.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    db.session.refresh(consent)
    assert consent.last_used_at > first - timedelta(minutes=2)


def test_a_refused_call_records_no_use(client, member, partner_client):
    issued = issue_token(member, partner_client, "email")
    client.get("/oauth/userinfo", headers=bearer(issued.access_token))
    consent = db.session.get(Consent, issued.row.consent_id)
    db.session.refresh(consent)
    assert consent.last_used_at is None
