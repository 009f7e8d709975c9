"""An operator's decision in one process holds in every other at once (SPEC.md §12).

Two applications on one committed database stand for two worker processes,
each with its own copies of clients (``idp.services.client_cache``): the
approval workflow changes the client row, which raises its version.
"""

from __future__ import annotations

import pytest

from idp.services import approval
from tests.oauth.conftest import OAuth, other_app, redirect_params  # noqa: F401  (fixture)


@pytest.fixture
def first(committed_app) -> OAuth:
    return OAuth(committed_app, committed_app.test_client())


def test_a_client_suspended_in_another_process_is_refused_at_once(first, other_app):  # noqa: F811
    rp = first.client()
    assert first.token(rp, grant_type="client_credentials").status_code == 200  # copy made

    with other_app.app_context():
        approval.suspend(rp.client_id, "Abuse reported")
    refused = first.token(rp, grant_type="client_credentials")
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"

    with other_app.app_context():
        approval.reinstate(rp.client_id)
    assert first.token(rp, grant_type="client_credentials").status_code == 200


def test_a_token_of_a_client_suspended_elsewhere_is_inactive_at_once(first, other_app):  # noqa: F811
    rp = first.client()
    member = first.member()
    first.login(member)
    tokens = first.tokens(rp)
    assert (
        first.http.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 200
    )

    with other_app.app_context():
        approval.suspend(rp.client_id, "Abuse reported")
    response = first.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401


def test_a_client_approved_in_another_process_lets_members_in_at_once(first, other_app):  # noqa: F811
    rp = first.client(approved=False)
    member = first.member()
    first.login(member)
    assert redirect_params(first.authorize(rp))["error"] == "access_denied"

    with other_app.app_context():
        approval.submit_for_approval(rp.client_id)
        approval.approve(rp.client_id)
    code, _ = first.code(rp)
    assert first.exchange(rp, code).status_code == 200
