"""``require_pushed_authorization_requests`` client metadata (RFC 9126 §6) through RFC 7591/7592."""

from __future__ import annotations

import pytest

from idp.services.registration import get_client
from tests.oauth.conftest import redirect_params
from tests.registration.conftest import REDIRECT, counts, metadata


def test_registration_sets_it_and_shows_it(app, partners):
    body = partners.registered(metadata(require_pushed_authorization_requests=True))
    assert body["require_pushed_authorization_requests"] is True
    with app.app_context():
        assert get_client(body["client_id"]).require_pushed_authorization_requests is True

    token = body["registration_access_token"]
    shown = partners.configure("GET", body["registration_client_uri"], token).get_json()
    assert shown["require_pushed_authorization_requests"] is True

    # RFC 7592 PUT replaces the metadata: left out, it is false again.
    document = metadata(client_id=body["client_id"])
    changed = partners.configure("PUT", body["registration_client_uri"], token, document)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["require_pushed_authorization_requests"] is False
    with app.app_context():
        assert get_client(body["client_id"]).require_pushed_authorization_requests is False


def test_it_is_false_unless_asked_for(partners):
    assert partners.registered()["require_pushed_authorization_requests"] is False


def test_null_is_not_given(partners):
    body = partners.registered({**metadata(), "require_pushed_authorization_requests": None})
    assert body["require_pushed_authorization_requests"] is False


@pytest.mark.parametrize("value", ["true", 1, 0, [], {}])
def test_anything_but_a_boolean_is_invalid_metadata(app, partners, value):
    token = partners.initial_token(partners.partner())
    before = counts(app)
    document = {**metadata(), "require_pushed_authorization_requests": value}
    response = partners.register(token, document)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert counts(app) == before


def test_a_registered_client_that_requires_it_is_held_to_it(client, partners):
    body = partners.registered(metadata(require_pushed_authorization_requests=True))
    plain = client.get(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": body["client_id"],
            "redirect_uri": REDIRECT,
            "scope": "openid",
        },
    )
    result = redirect_params(plain)
    assert result["error"] == "invalid_request"
    assert result["error_description"] == "pushed authorization request required"
