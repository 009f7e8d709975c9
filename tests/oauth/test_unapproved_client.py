"""Before approval a client works only for its partner's developers (SPEC.md §3)."""

from __future__ import annotations

from idp.extensions import db
from idp.models import Partner
from idp.services.registration import add_developer, approve_client
from tests.oauth.conftest import redirect_params


def test_unapproved_client_works_for_its_developers_only(oauth, member_id):
    rp = oauth.client(scope="openid", approved=False)
    developer = oauth.member()
    with oauth.app.app_context():
        add_developer(db.session.get(Partner, rp.partner_id), developer)

    oauth.login(member_id)
    params = redirect_params(oauth.authorize(rp, state="u"))
    assert params["error"] == "access_denied" and params["state"] == "u" and params["iss"]

    oauth.login(developer)
    code, _ = oauth.code(rp)
    assert oauth.exchange(rp, code).status_code == 200

    with oauth.app.app_context():
        approve_client(rp.client_id)
    oauth.login(member_id)
    code, _ = oauth.code(rp)
    assert oauth.exchange(rp, code).status_code == 200


def test_unapproved_client_asks_for_login_first(oauth):
    rp = oauth.client(scope="openid", approved=False)
    response = oauth.authorize(rp)
    assert response.headers["Location"].startswith("/login?")
