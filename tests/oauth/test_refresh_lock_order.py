"""A refresh racing a withdrawal on PostgreSQL: the two lock the consent and the token in
the same order, so one waits for the other instead of both deadlocking.

The withdrawal's side is played by a second connection that locks the consent, waits
until the refresh is under way, then revokes the token and commits, as
``idp.services.withdrawal`` does. The refresh must then be refused as any refresh
of a revoked token is (``invalid_grant``), never answered with a 500 or with tokens.
"""

from __future__ import annotations

import base64
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from idp.extensions import db
from tests.factories import issue_token, make_client, make_member, make_partner

SCOPE = "openid email offline_access"


@pytest.fixture
def seeded(backend, committed_app):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no row locks (one writer at a time)")
    with committed_app.app_context():
        client, secret = make_client(make_partner("Racing Shop", "partner_company"), scope=SCOPE)
        member, _, _ = make_member()
        issued = issue_token(member, client, scope=SCOPE, with_refresh=True)
        consent_id = issued.row.consent_id
        url = db.engine.url
        auth = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
        db.session.remove()
    return committed_app, url, consent_id, issued.refresh_token, auth


def test_a_refresh_waits_for_a_withdrawal_that_holds_the_consent(seeded):
    app, url, consent_id, refresh_token, auth = seeded
    engine = create_engine(url)
    locked, done = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def withdraw():
        try:
            with engine.begin() as conn:
                conn.execute(
                    text("SELECT id FROM consents WHERE id = :id FOR UPDATE"), {"id": consent_id}
                )
                locked.set()
                time.sleep(1.0)  # the refresh is under way meanwhile
                conn.execute(
                    text("UPDATE tokens SET revoked_at = now() WHERE consent_id = :id"),
                    {"id": consent_id},
                )
        except BaseException as exc:  # a deadlock aborts this side or the refresh
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=withdraw)
    thread.start()
    assert locked.wait(10)
    answer = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": f"Basic {auth}"},
    )
    thread.join(15)
    engine.dispose()
    assert done.is_set() and not failure, failure
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"] == "invalid_grant"
