"""Each process's copies of clients (``idp.services.client_cache``) follow every change at once.

Two applications on one database stand for two worker processes, each with its
own copies: a change made through one is refused or applied by the other on
its very next request (SQLite file and PostgreSQL). Every code path that
changes a client raises its version, which is what the copies are checked
against.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from sqlalchemy import delete

from idp.extensions import db
from idp.models import Token
from idp.services import client_cache
from idp.services.demo import seed_demo
from idp.services.registration import approve_client, get_client, rotate_client_secret
from idp.services.subjects import subject_for
from tests.factories import issue_token, make_client, make_member
from tests.oauth.conftest import OAuth

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def first(committed_app) -> OAuth:
    return OAuth(committed_app, committed_app.test_client())


def change_in(app, client_id: str, change):
    """Change the client through ``app`` and commit, as another process would."""
    with app.app_context():
        client = get_client(client_id)
        result = change(client)
        db.session.commit()
        return result


def client_credentials(oauth: OAuth, rp):
    return oauth.token(rp, grant_type="client_credentials")


def test_a_secret_rotated_in_another_process_is_refused_at_once(first, other_app):
    rp = first.client()
    assert client_credentials(first, rp).status_code == 200  # the copy is made now

    new_secret = change_in(other_app, rp.client_id, rotate_client_secret)

    refused = client_credentials(first, rp)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    rp.secret = new_secret
    assert client_credentials(first, rp).status_code == 200


def test_a_grant_type_taken_away_in_another_process_is_refused_at_once(first, other_app):
    rp = first.client()
    assert client_credentials(first, rp).status_code == 200

    change_in(other_app, rp.client_id, lambda c: setattr(c, "grant_types", ["authorization_code"]))

    refused = client_credentials(first, rp)
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"


def test_a_client_deleted_in_another_process_is_unknown_at_once(first, other_app):
    rp = first.client()
    assert client_credentials(first, rp).status_code == 200

    with other_app.app_context():
        db.session.execute(delete(Token).where(Token.client_id == rp.pk))
        db.session.delete(get_client(rp.client_id))
        db.session.commit()

    refused = client_credentials(first, rp)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"


def test_a_changed_client_changes_the_answers_about_its_tokens(first, other_app):
    """Introspection and UserInfo read the token's client from the copy too."""
    rp = first.client(scope="openid email")
    with first.app.app_context():
        member, _, _ = make_member()
        member_id = member.id
        access_token = issue_token(member, get_client(rp.client_id), "openid email").access_token
        pairwise = subject_for(member, get_client(rp.client_id))

    def subjects() -> tuple[str, str]:
        introspected = first.http.post(
            "/oauth/introspect", data={"token": access_token}, headers=rp.basic()
        ).get_json()
        userinfo = first.http.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        ).get_json()
        return introspected["sub"], userinfo["sub"]

    assert subjects() == (pairwise, pairwise)
    change_in(other_app, rp.client_id, lambda c: setattr(c, "subject_type", "public"))
    assert subjects() == (member_id, member_id)


def test_an_origin_registered_or_removed_in_another_process_counts_at_once(first, other_app):
    """The CORS origin set follows the clients' versions too (``idp.cors``)."""
    origin = f"https://spa-{secrets.token_hex(4)}.example"

    def allowed() -> bool:
        answer = first.http.options(
            "/oauth/token",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        return answer.headers.get("Access-Control-Allow-Origin") == origin

    assert not allowed()
    with other_app.app_context():
        client, _ = make_client(redirect_uris=[f"{origin}/cb"], token_endpoint_auth_method="none")
        client_id = client.client_id
    assert allowed()
    change_in(other_app, client_id, lambda c: setattr(c, "redirect_uris", ["https://x.example/"]))
    assert not allowed()


# -- every change raises the version ---------------------------------------------------


def version_of(client_id: str) -> int:
    db.session.expire_all()
    return get_client(client_id).version


def test_a_new_client_starts_at_version_one(app_ctx):
    client, _ = make_client()
    assert version_of(client.client_id) == 1


def test_approval_raises_the_version(app_ctx):
    client, _ = make_client(approved=False)
    approve_client(client.client_id)
    assert version_of(client.client_id) == 2


def test_approval_from_the_command_line_raises_the_version(app, runner):
    with app.app_context():
        client, _ = make_client(approved=False)
        client_id = client.client_id
    result = runner.invoke(args=["clients", "approve", client_id])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert version_of(client_id) == 2


def test_a_rotated_secret_raises_the_version(app_ctx):
    client, _ = make_client()
    rotate_client_secret(client)
    assert version_of(client.client_id) == 2


def test_moving_the_demo_client_raises_the_version(app_ctx, tmp_path):
    seed = seed_demo(tmp_path, "http://127.0.0.1:5001")
    before = version_of(seed.client_id)
    seed_demo(tmp_path, "http://127.0.0.1:5002")
    assert version_of(seed.client_id) > before


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("redirect_uris", ["https://elsewhere.example/callback"]),
        ("scope", "openid"),
        ("token_endpoint_auth_method", "client_secret_post"),
        ("approved_at", None),
        ("jwks_uri", "https://partner.example/jwks"),
    ],
)
def test_any_change_through_the_session_raises_the_version(app_ctx, column, value):
    client, _ = make_client()
    setattr(client, column, value)
    db.session.commit()
    assert version_of(client.client_id) == 2


def test_clients_change_only_through_the_session():
    """A bulk UPDATE or DELETE would bypass the version, so none exists."""
    bypass = re.compile(
        r"(update|delete)\(\s*Client\b|Client\.__table__\.(update|delete)"
        r"|\b(UPDATE|DELETE\s+FROM)\s+clients\b",
        re.IGNORECASE,
    )
    for package in ("idp", "clients", "consent_screens"):
        for path in (ROOT / package).rglob("*.py"):
            found = bypass.search(path.read_text())
            assert found is None, f"{path.relative_to(ROOT)} changes clients in bulk: {found[0]}"


def test_the_copy_is_made_again_only_when_the_version_changed(app_ctx):
    client, _ = make_client()
    first = client_cache.find(client.client_id)
    assert client_cache.find(client.client_id) is first
    rotate_client_secret(client)
    renewed = client_cache.find(client.client_id)
    assert renewed is not first and renewed.client_secret_hash == client.client_secret_hash


def test_the_copy_cannot_be_changed(app_ctx):
    client, _ = make_client()
    record = client_cache.find(client.client_id)
    with pytest.raises(AttributeError):
        record.client_secret_hash = None
