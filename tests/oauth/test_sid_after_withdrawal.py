"""After Revoke access, the next login at the partner in the same SSO session gets a new ``sid``.

The withdrawal sent a back-channel logout token for the sid the partner held;
a relying party that remembers logged-out sids must not be handed it again.
Other partners in the same session keep theirs, and the session's end still
reaches every sid it gave out.
"""

from __future__ import annotations

from joserfc import jwt
from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, PartnerNotification
from idp.models.types import utcnow
from idp.services import notifications, signing_keys
from tests.login_flow import csrf_token
from tests.oauth.test_withdrawal import revoke_from_connected_apps

SCOPE = "openid email offline_access"


def with_backchannel(oauth, rp, uri="https://partner.example/backchannel"):
    with oauth.app.app_context():
        db.session.get(Client, rp.pk).backchannel_logout_uri = uri
        db.session.commit()


def logout_sids(oauth, rp) -> list[str]:
    """The sids of the logout tokens queued for ``rp``, oldest first."""
    with oauth.app.app_context():
        rows = db.session.scalars(
            select(PartnerNotification)
            .where(
                PartnerNotification.client_id == rp.pk,
                PartnerNotification.kind == "backchannel_logout",
            )
            .order_by(PartnerNotification.id)
        ).all()
        keys = signing_keys.public_key_set()
        return [
            jwt.decode(notifications.sign(r, utcnow()), keys, ["RS256"]).claims["sid"]
            for r in rows
        ]


def test_a_new_login_after_a_withdrawal_gets_a_new_sid(oauth, rp, member_id):
    with_backchannel(oauth, rp)
    other = oauth.client("Other Partner", scope=SCOPE, purposes=["registration"])
    sid = oauth.login(member_id)
    first = oauth.tokens(rp, scope=SCOPE)
    assert oauth.id_token_claims(first["id_token"])["sid"] == sid
    elsewhere = oauth.tokens(other, scope=SCOPE)

    revoke_from_connected_apps(oauth, rp.partner_id)
    assert logout_sids(oauth, rp) == [sid]

    # The same SSO session (no new login), consent given again.
    second = oauth.tokens(rp, scope=SCOPE)
    new_sid = oauth.id_token_claims(second["id_token"])["sid"]
    assert new_sid != sid
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert oauth.id_token_claims(refreshed.get_json()["id_token"])["sid"] == new_sid
    # Another partner of the same session is not affected.
    again = oauth.tokens(other, scope=SCOPE)
    assert oauth.id_token_claims(elsewhere["id_token"])["sid"] == sid
    assert oauth.id_token_claims(again["id_token"])["sid"] == sid

    # A second withdrawal and login: yet another sid, and the logout names the one held.
    revoke_from_connected_apps(oauth, rp.partner_id)
    assert logout_sids(oauth, rp) == [sid, new_sid]
    third = oauth.tokens(rp, scope=SCOPE)
    third_sid = oauth.id_token_claims(third["id_token"])["sid"]
    assert third_sid not in (sid, new_sid)

    # Logging out of the SSO session reaches the partner under the sid it holds now.
    page = oauth.http.get("/logout").get_data(as_text=True)
    oauth.http.post("/logout", data={"csrf_token": csrf_token(page)})
    assert third_sid in logout_sids(oauth, rp)[2:]


def test_rp_initiated_logout_accepts_the_new_sid_of_this_session(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(oauth, rp.partner_id)
    body = oauth.tokens(rp, scope=SCOPE)
    response = oauth.http.get(
        "/oauth/logout",
        query_string={"id_token_hint": body["id_token"], "client_id": rp.client_id},
    )
    # A hint of this very session logs out at once, without asking.
    assert response.status_code in (200, 302)
    assert oauth.http.get("/account").status_code == 302
