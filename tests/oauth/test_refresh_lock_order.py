"""A refresh racing a withdrawal on PostgreSQL: the two lock the consent and the token in
the same order (the consent first), so one waits for the other instead of both deadlocking.

Each side is played in turn by a second connection that takes the locks in that
order: against a withdrawal played so, the refresh is refused as any refresh of a
revoked token is (``invalid_grant``), never answered with a 500 or with tokens;
against a refresh played so, the withdrawal (``idp.services.withdrawal``) waits
and then revokes everything, the refreshed token included.
"""

from __future__ import annotations

import base64
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from idp.extensions import db
from idp.services import withdrawal
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
        ids = member.id, client.partner_id, issued.row.id
        db.session.remove()
    return committed_app, url, consent_id, issued.refresh_token, auth, ids


class OtherSide:
    """The racing transaction on a connection of its own: it locks the consent, waits a
    second while the request under test runs, then writes the tokens and commits."""

    def __init__(self, url, consent_id: str, statement: str, params: dict):
        self.engine = create_engine(url)
        self.locked, self.done = threading.Event(), threading.Event()
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(consent_id, statement, params))

    def _run(self, consent_id, statement, params):
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    text("SELECT id FROM consents WHERE id = :id FOR UPDATE"), {"id": consent_id}
                )
                self.locked.set()
                time.sleep(1.0)  # the request under test is under way meanwhile
                conn.execute(text(statement), params)
        except BaseException as exc:  # a deadlock aborts this side or the other
            self.failure.append(exc)
        finally:
            self.done.set()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc_info):
        self.thread.join(15)
        self.engine.dispose()

    def finished_cleanly(self) -> bool:
        return self.done.is_set() and not self.failure


def test_a_refresh_waits_for_a_withdrawal_that_holds_the_consent(seeded):
    app, url, consent_id, refresh_token, auth, _ = seeded
    revoke = "UPDATE tokens SET revoked_at = now() WHERE consent_id = :id"
    with OtherSide(url, consent_id, revoke, {"id": consent_id}) as withdrawal_side:
        answer = app.test_client().post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            headers={"Authorization": f"Basic {auth}"},
        )
    assert withdrawal_side.finished_cleanly(), withdrawal_side.failure
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"] == "invalid_grant"


def test_a_withdrawal_waits_for_a_refresh_that_holds_the_consent(seeded):
    app, url, consent_id, _, _, (member_id, partner_id, token_id) = seeded
    claim = "UPDATE tokens SET refresh_used_at = now() WHERE id = :id"
    with OtherSide(url, consent_id, claim, {"id": token_id}) as refresh_side:
        with app.app_context():
            withdrawn = withdrawal.withdraw_partner_access(member_id, partner_id, actor="member")
            revoked_at = db.session.execute(
                text("SELECT revoked_at FROM tokens WHERE id = :id"), {"id": token_id}
            ).scalar()
            db.session.remove()
    assert refresh_side.finished_cleanly(), refresh_side.failure
    assert withdrawn.tokens_revoked >= 1
    assert revoked_at is not None
