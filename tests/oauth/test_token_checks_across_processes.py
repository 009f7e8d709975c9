"""A token revoked, or its consent withdrawn or expired, in one process is refused by another at once.

UserInfo and introspection read the token, its consent and its client in one
query on every call (``idp.services.token_lookup``); only the client copy is
kept, and it is checked against the stored version. Two applications on one
database stand for two worker processes (SQLite file and PostgreSQL).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.extensions import db
from idp.models import Consent, Token
from idp.models.types import utcnow
from idp.services import tokens
from idp.services.registration import get_client
from tests.factories import issue_token, make_member
from tests.oauth.conftest import OAuth


@pytest.fixture
def issued(committed_app):
    """(OAuth on the first app, the client, the access token, its token row id)."""
    oauth = OAuth(committed_app, committed_app.test_client())
    rp = oauth.client(scope="openid email")
    with committed_app.app_context():
        member, _, _ = make_member()
        token = issue_token(member, get_client(rp.client_id), "openid email")
        return oauth, rp, token.access_token, token.row.id


def answers(oauth: OAuth, rp, access_token: str) -> tuple[int, bool]:
    """UserInfo's status and introspection's ``active`` for the token."""
    userinfo = oauth.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    introspected = oauth.http.post(
        "/oauth/introspect", data={"token": access_token}, headers=rp.basic()
    )
    return userinfo.status_code, introspected.get_json()["active"]


def change_token_in(app, row_id: int, change) -> None:
    with app.app_context():
        change(db.session.get(Token, row_id))
        db.session.commit()


def test_a_token_revoked_in_another_process_is_refused_at_once(issued, other_app):
    oauth, rp, access_token, row_id = issued
    assert answers(oauth, rp, access_token) == (200, True)
    change_token_in(other_app, row_id, tokens.revoke_row)
    assert answers(oauth, rp, access_token) == (401, False)


def test_a_consent_withdrawn_in_another_process_ends_its_tokens_at_once(issued, other_app):
    oauth, rp, access_token, row_id = issued
    assert answers(oauth, rp, access_token) == (200, True)

    def withdraw(row: Token) -> None:
        db.session.get(Consent, row.consent_id).withdrawn_at = utcnow()

    change_token_in(other_app, row_id, withdraw)
    assert answers(oauth, rp, access_token) == (401, False)


def test_a_consent_expired_in_another_process_ends_its_tokens_at_once(issued, other_app):
    oauth, rp, access_token, row_id = issued
    assert answers(oauth, rp, access_token) == (200, True)

    def expire(row: Token) -> None:
        db.session.get(Consent, row.consent_id).expires_at = utcnow() - timedelta(seconds=1)

    change_token_in(other_app, row_id, expire)
    assert answers(oauth, rp, access_token) == (401, False)


def test_a_token_expired_in_another_process_is_refused_at_once(issued, other_app):
    oauth, rp, access_token, row_id = issued
    assert answers(oauth, rp, access_token) == (200, True)

    def expire(row: Token) -> None:
        row.access_expires_at = utcnow() - timedelta(seconds=1)

    change_token_in(other_app, row_id, expire)
    assert answers(oauth, rp, access_token) == (401, False)
