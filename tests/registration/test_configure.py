"""RFC 7592: the registration access token reads, replaces and deletes its own client only."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.models import AuditEvent
from idp.services.registration import get_client
from tests.factories import issue_token
from tests.registration.conftest import basic, counts, metadata


def test_get_shows_the_client_without_secrets(partners):
    body = partners.registered()
    response = partners.configure(
        "GET", body["registration_client_uri"], body["registration_access_token"]
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.get_json()
    assert shown["client_id"] == body["client_id"]
    assert shown["client_name"] == "Shop"
    assert "client_secret" not in shown and "registration_access_token" not in shown


def test_a_token_manages_its_own_client_only(app, partners):
    """Authlib advisory GHSA-c73q-w75p-j82v: a token of one client never opens another."""
    partner_id = partners.partner()
    mine = partners.registered(partner_id=partner_id)
    theirs = partners.registered(partner_id=partner_id)
    stranger = partners.registered()
    before = counts(app)
    for other in (theirs, stranger):
        uri = other["registration_client_uri"]
        for method, document in (
            ("GET", None),
            ("PUT", metadata(client_name="Taken")),
            ("DELETE", None),
        ):
            response = partners.configure(method, uri, mine["registration_access_token"], document)
            assert response.status_code == 401, (method, response.get_json())
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert counts(app) == before
    with app.app_context():
        assert get_client(theirs["client_id"]).client_name == "Shop"
        assert get_client(stranger["client_id"]).redirect_uris


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_without_the_token_nothing_is_shown(partners, header):
    body = partners.registered()
    headers = {"Authorization": header} if header else {}
    path = body["registration_client_uri"].removeprefix("http://127.0.0.1:5000")
    response = partners.http.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_an_unknown_client_is_the_same_refusal(partners):
    body = partners.registered()
    for client_id in ("nobody", "x" * 65, "a\u0000b"):
        response = partners.http.get(
            f"/oauth/register/{client_id}",
            headers={"Authorization": f"Bearer {body['registration_access_token']}"},
        )
        assert response.status_code in (401, 404), client_id
        assert response.status_code != 500


def test_put_replaces_the_metadata_and_rotates_the_token(app, partners):
    body = partners.registered()
    old = body["registration_access_token"]
    with app.app_context():
        version = get_client(body["client_id"]).version
    document = metadata(
        client_id=body["client_id"],
        client_name="Shop renamed",
        redirect_uris=["https://shop.example/callback", "https://shop.example/other"],
        policy_uri="https://shop.example/privacy",
    )
    response = partners.configure("PUT", body["registration_client_uri"], old, document)
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    new = updated["registration_access_token"]
    assert new != old
    assert updated["client_name"] == "Shop renamed"
    assert updated["policy_uri"] == "https://shop.example/privacy"
    with app.app_context():
        client = get_client(body["client_id"])
        assert client.version > version
        assert client.check_client_secret(body["client_secret"])  # the secret is kept
        events = [
            e.event for e in db.session.query(AuditEvent).filter_by(client_id=client.client_id)
        ]
        assert "client.updated" in events and "client.registration_token_rotated" in events

    uri = body["registration_client_uri"]
    # The response might have been lost: the old token still works ...
    assert partners.configure("GET", uri, old).status_code == 200
    # ... until the new one is used once.
    assert partners.configure("GET", uri, new).status_code == 200
    assert partners.configure("GET", uri, old).status_code == 401
    assert partners.configure("GET", uri, new).status_code == 200


def test_a_lost_put_response_does_not_lock_the_partner_out(partners):
    body = partners.registered()
    uri, first = body["registration_client_uri"], body["registration_access_token"]
    lost = partners.configure("PUT", uri, first, metadata(client_name="Two")).get_json()
    # The partner never saw ``lost`` and retries with the token it has.
    retry = partners.configure("PUT", uri, first, metadata(client_name="Three"))
    assert retry.status_code == 200
    newest = retry.get_json()["registration_access_token"]
    assert partners.configure("GET", uri, lost["registration_access_token"]).status_code == 401
    assert partners.configure("GET", uri, newest).get_json()["client_name"] == "Three"


def test_a_bad_put_changes_nothing(app, partners):
    body = partners.registered()
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    before = counts(app)
    with app.app_context():
        version = get_client(body["client_id"]).version
    for document, code in (
        (metadata(redirect_uris=["http://shop.example/cb"]), "invalid_redirect_uri"),
        (metadata(scope="openid nothing"), "invalid_client_metadata"),
        (metadata(client_id="another"), "invalid_client_metadata"),
        (metadata(client_secret="not the secret"), "invalid_client_metadata"),
        (metadata(approved=True), "invalid_client_metadata"),
        (metadata(first_party=True), "invalid_client_metadata"),
        (metadata(redirect_uris=["https://elsewhere.example/cb"]), "invalid_client_metadata"),
    ):
        response = partners.configure("PUT", uri, token, document)
        assert response.status_code == 400, document
        assert response.get_json()["error"] == code, (document, response.get_json())
    assert counts(app) == before
    with app.app_context():
        client = get_client(body["client_id"])
        assert client.version == version and client.redirect_uris == metadata()["redirect_uris"]
    # The token was not rotated by the refusals.
    assert partners.configure("GET", uri, token).status_code == 200


def test_put_with_the_current_secret_is_accepted(partners):
    body = partners.registered()
    document = metadata(client_id=body["client_id"], client_secret=body["client_secret"])
    response = partners.configure(
        "PUT", body["registration_client_uri"], body["registration_access_token"], document
    )
    assert response.status_code == 200, response.get_json()


def test_delete_retires_the_client_and_its_tokens(app, partners):
    body = partners.registered(metadata(scope="openid profile"))
    with app.app_context():
        from tests.factories import make_member

        member, _, _ = make_member()
        issued = issue_token(member, get_client(body["client_id"]))
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    response = partners.configure("DELETE", uri, token)
    assert response.status_code == 204
    assert partners.configure("GET", uri, token).status_code == 401
    answer = partners.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(body["client_id"], body["client_secret"]),
    )
    assert answer.status_code == 401
    userinfo = partners.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {issued.access_token}"}
    )
    assert userinfo.status_code == 401
    with app.app_context():
        events = [
            e.event for e in db.session.query(AuditEvent).filter_by(client_id=body["client_id"])
        ]
        assert "client.deleted" in events


def test_a_machine_client_may_gain_redirect_uris(partners):
    body = partners.registered(
        metadata(redirect_uris=None, grant_types=["client_credentials"], response_types=[])
    )
    response = partners.configure(
        "PUT", body["registration_client_uri"], body["registration_access_token"], metadata()
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["redirect_uris"] == metadata()["redirect_uris"]
