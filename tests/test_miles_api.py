"""GET /api/v1/me/miles (SPEC.md §10, INTERFACE.md) behind bearer tokens."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from idp.extensions import db
from idp.models import Consent
from idp.models.types import utcnow
from idp.services import tokens
from tests.factories import issue_token, make_client, make_member

URL = "/api/v1/me/miles"


@pytest.fixture
def member(app_ctx):
    member, _, _ = make_member(miles_balance=123_456, status_tier="frequent_traveller")
    return member


@pytest.fixture
def miles_client(app_ctx):
    client, _ = make_client(scope="openid card_number miles status", purposes=["miles"])
    return client


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


def test_balance_and_card_number(client, member, miles_client):
    issued = issue_token(member, miles_client)
    response = client.get(URL, headers=bearer(issued.access_token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body == {"card_number": member.card_number, "miles_balance": 123_456}
    assert type(body["miles_balance"]) is int


def test_the_balance_is_read_on_every_call(client, member, miles_client):
    issued = issue_token(member, miles_client)
    member.miles_balance = 7
    db.session.commit()
    assert client.get(URL, headers=bearer(issued.access_token)).get_json()["miles_balance"] == 7


def test_card_number_needs_its_own_scope(client, member, app_ctx):
    only_miles, _ = make_client(scope="openid miles", purposes=["miles"])
    issued = issue_token(member, only_miles)
    body = client.get(URL, headers=bearer(issued.access_token)).get_json()
    assert body == {"card_number": None, "miles_balance": 123_456}


def test_without_a_token_the_challenge_names_invalid_token(client, app_ctx):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("value", ["made-up", "", "Basic"])
def test_an_invalid_token_is_refused(client, app_ctx, value):
    headers = {"Authorization": "Basic dXNlcjpwYXNz"} if value == "Basic" else bearer(value)
    response = client.get(URL, headers=headers)
    if value == "":
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request"
        return
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    body = response.get_json()
    assert body["error"] == "invalid_token" and body["error_description"]


def test_a_token_without_the_miles_scope_is_forbidden(client, member, app_ctx):
    profile_client, _ = make_client(scope="openid profile", purposes=["autofill"])
    issued = issue_token(member, profile_client)
    response = client.get(URL, headers=bearer(issued.access_token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="miles"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "insufficient_scope"


def test_a_token_in_the_query_string_is_refused(client, member, miles_client):
    issued = issue_token(member, miles_client)
    response = client.get(URL, query_string={"access_token": issued.access_token})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_revoked_expired_and_withdrawn_tokens_stop_at_once(client, member, miles_client):
    revoked = issue_token(member, miles_client)
    assert client.get(URL, headers=bearer(revoked.access_token)).status_code == 200
    tokens.revoke_row(revoked.row)
    db.session.commit()
    assert client.get(URL, headers=bearer(revoked.access_token)).status_code == 401

    expired = issue_token(member, miles_client)
    expired.row.access_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(URL, headers=bearer(expired.access_token)).status_code == 401

    withdrawn = issue_token(member, miles_client)
    db.session.get(Consent, withdrawn.row.consent_id).withdrawn_at = utcnow()
    db.session.commit()
    assert client.get(URL, headers=bearer(withdrawn.access_token)).status_code == 401


def test_an_expired_consent_stops_the_token(client, member, miles_client):
    issued = issue_token(member, miles_client)
    db.session.get(Consent, issued.row.consent_id).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(URL, headers=bearer(issued.access_token)).status_code == 401


def test_a_client_credentials_token_is_refused(client, miles_client):
    issued = issue_token(None, miles_client, "openid miles")
    response = client.get(URL, headers=bearer(issued.access_token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_other_methods_get_a_json_problem(client, member, miles_client):
    issued = issue_token(member, miles_client)
    response = client.post(URL, headers=bearer(issued.access_token))
    assert response.status_code == 405
    assert response.is_json


def test_the_api_rate_limit_applies(client, member, miles_client, monkeypatch):
    settings = client.application.config["IDP"]
    monkeypatch.setitem(
        client.application.config,
        "IDP",
        dataclasses.replace(settings, api_rate_limit="2/minute"),
    )
    issued = issue_token(member, miles_client)
    assert client.get(URL, headers=bearer(issued.access_token)).status_code == 200
    assert client.get(URL, headers=bearer(issued.access_token)).status_code == 200
    response = client.get(URL, headers=bearer(issued.access_token))
    assert response.status_code == 429
    assert response.is_json
