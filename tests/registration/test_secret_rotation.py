"""A rotated secret: the new one works at once, the old one for its grace period only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from idp.extensions import db
from idp.models import AuditEvent
from idp.models import client as client_model
from idp.models.types import utcnow
from idp.services.errors import InvalidInput
from idp.services.registration import (
    get_client,
    request_from,
    rotate_secret,
    update_client,
)
from tests.factories import make_client
from tests.registration.conftest import basic

SEVEN_DAYS = 7 * 24 * 3600


def client_credentials(http, client_id, secret):
    return http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )


@pytest.fixture
def confidential(app):
    with app.app_context():
        client, secret = make_client()
        return client.client_id, secret


def rotate(app, client_id, grace):
    with app.app_context():
        return rotate_secret(get_client(client_id), grace)


def later(monkeypatch, seconds):
    moment = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(client_model, "utcnow", lambda: moment)


def test_the_old_secret_works_during_the_grace_period_and_not_after(
    app, client, confidential, monkeypatch
):
    client_id, old = confidential
    new = rotate(app, client_id, 3600)
    assert client_credentials(client, client_id, old).status_code == 200
    assert client_credentials(client, client_id, new).status_code == 200
    later(monkeypatch, 3599)
    assert client_credentials(client, client_id, old).status_code == 200
    later(monkeypatch, 3601)
    refused = client_credentials(client, client_id, old)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    assert client_credentials(client, client_id, new).status_code == 200


def test_without_grace_the_old_secret_stops_at_once(app, client, confidential):
    client_id, old = confidential
    new = rotate(app, client_id, 0)
    assert client_credentials(client, client_id, old).status_code == 401
    assert client_credentials(client, client_id, new).status_code == 200


def test_a_second_rotation_ends_the_first_grace_period(app, client, confidential):
    client_id, first = confidential
    second = rotate(app, client_id, 3600)
    third = rotate(app, client_id, 3600)
    assert client_credentials(client, client_id, first).status_code == 401
    assert client_credentials(client, client_id, second).status_code == 200
    assert client_credentials(client, client_id, third).status_code == 200


def test_the_old_secret_is_kept_as_a_hash_and_the_rotation_audited(app, confidential):
    client_id, old = confidential
    new = rotate(app, client_id, 600)
    with app.app_context():
        stored = get_client(client_id)
        assert old not in (stored.previous_secret_hash, stored.client_secret_hash)
        assert stored.previous_secret_expires_at > utcnow()
        event = (
            db.session.query(AuditEvent)
            .filter_by(client_id=client_id, event="client.secret_rotated")
            .one()
        )
        assert event.details["grace_seconds"] == 600
        assert old not in str(event.details) and new not in str(event.details)


@pytest.mark.parametrize("grace", [-1, SEVEN_DAYS + 1, "60", 1.5])
def test_a_grace_period_beyond_seven_days_is_refused(app, confidential, grace):
    client_id, old = confidential
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            rotate_secret(get_client(client_id), grace)
        assert refused.value.field == "grace"
        db.session.rollback()
        assert get_client(client_id).check_client_secret(old)


def test_a_client_without_secret_has_none_to_rotate(app):
    with app.app_context():
        client, _ = make_client(public=True)
        with pytest.raises(InvalidInput):
            rotate_secret(client, 60)


def test_a_change_that_makes_a_public_client_confidential_issues_a_secret(app, client):
    with app.app_context():
        public, _ = make_client(public=True)
        request = replace(
            request_from(public),
            public=False,
            token_endpoint_auth_method="client_secret_post",
            grant_types=None,
        )
        changed, secret = update_client(public, request)
        assert secret and changed.check_client_secret(secret)
        client_id = changed.client_id
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 200, answer.get_json()


# -- across processes: each keeps copies of clients (idp.services.client_cache) ------------


def test_a_rotation_with_grace_in_another_process_applies_at_once(committed_app, other_app):
    http = committed_app.test_client()
    with committed_app.app_context():
        made, old = make_client()
        client_id = made.client_id
    assert client_credentials(http, client_id, old).status_code == 200  # copy made
    new = rotate(other_app, client_id, 3600)
    assert client_credentials(http, client_id, new).status_code == 200
    assert client_credentials(http, client_id, old).status_code == 200
    rotate(other_app, client_id, 0)
    assert client_credentials(http, client_id, new).status_code == 401


def test_an_update_in_another_process_applies_at_once(committed_app, other_app):
    http = committed_app.test_client()
    with committed_app.app_context():
        made, secret = make_client()
        client_id = made.client_id
    assert client_credentials(http, client_id, secret).status_code == 200
    with other_app.app_context():
        stored = get_client(client_id)
        update_client(stored, replace(request_from(stored), grant_types=["authorization_code"]))
    refused = client_credentials(http, client_id, secret)
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"
