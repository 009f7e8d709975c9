"""Withdrawal from Connected apps (SPEC.md §7): everything at the partner ends at once.

Every token of the member at every client of the partner is refused by
introspection, UserInfo, the miles API and the token endpoint (refresh tokens
issued before included); the consent stays as evidence; the partner is told by
back-channel logout and a Security Event Token; the next login asks again.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from sqlalchemy import select

from idp.extensions import db
from idp.models import (
    AuditEvent,
    Client,
    Consent,
    ConsentRecord,
    Member,
    PartnerNotification,
    Token,
)
from idp.models.types import utcnow
from idp.services import notifications, signing_keys, withdrawal
from tests.factories import make_client
from tests.login_flow import csrf_token

SCOPE = "openid email phone card_number miles offline_access"


def introspect(oauth, rp, token):
    return oauth.http.post("/oauth/introspect", data={"token": token}, headers=rp.basic())


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def revoke_from_connected_apps(oauth, partner_id):
    page = oauth.http.get(f"/account/apps/{partner_id}/revoke")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.get_data(as_text=True))}
    return oauth.http.post(f"/account/apps/{partner_id}/revoke", data=form)


def second_client_of(oauth, rp, **fields):
    """Another client of the same partner (a partner may run several)."""
    with oauth.app.app_context():
        partner = db.session.get(Client, rp.pk).partner
        client, secret = make_client(
            partner,
            scope=SCOPE,
            purposes=["registration", "miles"],
            redirect_uris=[rp.redirect_uri],
            **fields,
        )
        from tests.oauth.conftest import RP

        return RP(client.client_id, secret, rp.redirect_uri, client.id, partner.id, partner.name)


def test_withdrawal_refuses_every_token_of_the_partner_at_once(oauth, rp, member_id):
    oauth.login(member_id)
    first = oauth.tokens(rp, scope=SCOPE)
    # A refresh token issued before the withdrawal, and a second client of the partner.
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200
    newest = refreshed.get_json()
    other = second_client_of(oauth, rp)
    other_tokens = oauth.tokens(other, scope=SCOPE)
    # A different partner keeps its access.
    unrelated = oauth.client("Other Partner", scope=SCOPE, purposes=["registration", "miles"])
    unrelated_tokens = oauth.tokens(unrelated, scope=SCOPE)

    for token in (newest["access_token"], other_tokens["access_token"]):
        assert oauth.http.get("/oauth/userinfo", headers=bearer(token)).status_code == 200
        assert oauth.http.get("/api/v1/me/miles", headers=bearer(token)).status_code == 200

    response = revoke_from_connected_apps(oauth, rp.partner_id)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/account/apps"
    page = oauth.http.get("/account/apps").get_data(as_text=True)
    status = re.search(r'role="status">(.*?)</div>', page, re.S)
    assert status and f"You have revoked access for {rp.partner_name}" in status.group(1)

    for token in (newest["access_token"], other_tokens["access_token"]):
        userinfo = oauth.http.get("/oauth/userinfo", headers=bearer(token))
        assert userinfo.status_code == 401
        miles = oauth.http.get("/api/v1/me/miles", headers=bearer(token))
        assert miles.status_code == 401
        assert 'error="invalid_token"' in miles.headers["WWW-Authenticate"]
    for token in (newest["access_token"], newest["refresh_token"], first["refresh_token"]):
        assert introspect(oauth, rp, token).get_json() == {"active": False}
    for client, token in ((rp, newest["refresh_token"]), (other, other_tokens["refresh_token"])):
        again = oauth.token(client, grant_type="refresh_token", refresh_token=token)
        assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"

    # The other partner is untouched.
    token = unrelated_tokens["access_token"]
    assert oauth.http.get("/api/v1/me/miles", headers=bearer(token)).status_code == 200

    with oauth.app.app_context():
        rows = db.session.scalars(
            select(Token).where(
                Token.member_id == member_id, Token.client_id.in_([rp.pk, other.pk])
            )
        ).all()
        assert rows and all(row.revoked_at is not None for row in rows)
        consents = db.session.scalars(
            select(Consent).where(Consent.member_id == member_id, Consent.client_id != unrelated.pk)
        ).all()
        assert len(consents) == 2 and all(c.withdrawn_at is not None for c in consents)
        actions = db.session.scalars(
            select(ConsentRecord.action)
            .where(ConsentRecord.member_id == member_id, ConsentRecord.client_id == rp.pk)
            .order_by(ConsentRecord.id)
        ).all()
        assert actions == ["given", "withdrawn"]
        event = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.member_id == member_id, AuditEvent.event == "consent.withdrawn"
            )
        ).one()
        assert event.details["partner_id"] == rp.partner_id
        assert event.details["tokens_revoked"] == len(rows)
        assert "token" not in str(event.details).replace("tokens_revoked", "")


def test_the_next_login_asks_for_consent_again(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    revoke_from_connected_apps(oauth, rp.partner_id)
    response = oauth.authorize(rp, scope="openid email")
    _, page = oauth.consent_page(response)
    assert "Your email address" in page.get_data(as_text=True)
    # Allowing again starts a new period of consent; the withdrawn row stays.
    oauth.tokens(rp, scope="openid email")
    with oauth.app.app_context():
        rows = db.session.scalars(
            select(Consent).where(Consent.member_id == member_id).order_by(Consent.granted_at)
        ).all()
        assert [r.withdrawn_at is not None for r in rows] == [True, False]


def test_partner_is_notified_by_logout_token_and_security_event(oauth, rp, member_id):
    with oauth.app.app_context():
        client = db.session.get(Client, rp.pk)
        client.backchannel_logout_uri = "https://partner.example/backchannel"
        client.security_event_uri = "https://partner.example/events"
        db.session.commit()
    sid = oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    revoke_from_connected_apps(oauth, rp.partner_id)

    with oauth.app.app_context():
        rows = db.session.scalars(
            select(PartnerNotification)
            .where(PartnerNotification.client_id == rp.pk)
            .order_by(PartnerNotification.id)
        ).all()
        assert [(r.kind, r.url) for r in rows] == [
            ("backchannel_logout", "https://partner.example/backchannel"),
            ("security_event", "https://partner.example/events"),
        ]
        logout = jwt.decode(
            notifications.sign(rows[0], utcnow()), signing_keys.public_key_set(), ["RS256"]
        )
        assert logout.header["typ"] == "logout+jwt" and logout.claims["sid"] == sid
        token = jwt.decode(
            notifications.sign(rows[1], utcnow()), signing_keys.public_key_set(), ["RS256"]
        )
    assert token.header["typ"] == "secevent+jwt"
    claims = token.claims
    assert claims["iss"] == "http://127.0.0.1:5000" and claims["aud"] == rp.client_id
    assert claims["sub"] == logout.claims["sub"]
    assert {"iat", "jti", "toe"} <= set(claims) and "exp" not in claims
    revoked = claims["events"][withdrawal.TOKEN_REVOKED_EVENT]
    assert revoked["subject"] == {"format": "iss_sub", "iss": claims["iss"], "sub": claims["sub"]}
    consent_event = claims["events"]["http://127.0.0.1:5000/secevent/consent-revoked"]
    assert consent_event["initiator"] == "member"
    assert "email" in consent_event["scope"].split()


def test_withdrawal_is_all_or_nothing(oauth, rp, member_id, monkeypatch):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(withdrawal.audit, "record", broken)
    with oauth.app.app_context():
        with pytest.raises(RuntimeError):
            withdrawal.withdraw_partner_access(member_id, rp.partner_id)
        db.session.rollback()
    monkeypatch.undo()
    assert introspect(oauth, rp, body["access_token"]).get_json()["active"] is True
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).one()
        assert consent.withdrawn_at is None


def test_withdrawing_twice_does_nothing_more(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    with oauth.app.app_context():
        first = withdrawal.withdraw_partner_access(member_id, rp.partner_id, actor="admin")
        second = withdrawal.withdraw_partner_access(member_id, rp.partner_id, actor="admin")
        records = db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.action == "withdrawn")
        ).all()
    assert first.consents_withdrawn == 1 and first.tokens_revoked == 1
    assert (second.consents_withdrawn, second.tokens_revoked) == (0, 0)
    assert [r.actor for r in records] == ["admin"]


def test_account_deletion_withdraws_at_every_partner(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    other = oauth.client("Second Partner", scope=SCOPE, purposes=["registration", "miles"])
    body = oauth.tokens(other, scope=SCOPE)
    with oauth.app.app_context():
        assert withdrawal.withdraw_all_for_member(member_id) == 2
        actors = db.session.scalars(
            select(ConsentRecord.actor).where(ConsentRecord.action == "withdrawn")
        ).all()
    assert actors == ["account_deletion", "account_deletion"]
    assert introspect(oauth, other, body["access_token"]).get_json() == {"active": False}


def test_an_unknown_actor_is_refused(oauth, rp, member_id):
    with oauth.app.app_context(), pytest.raises(ValueError):
        withdrawal.withdraw_partner_access(member_id, rp.partner_id, actor="robot")


def test_an_administrator_withdraws_from_the_command_line(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    runner = oauth.app.test_cli_runner()
    with oauth.app.app_context():
        card_number = db.session.get(Member, member_id).card_number
    # By card number, as staff know a member; --json prints one object.
    result = runner.invoke(
        args=["members", "withdraw-consent", card_number, "--partner-id", rp.partner_id, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "member_id": member_id,
        "partner_id": rp.partner_id,
        "consents_withdrawn": 1,
        "tokens_revoked": 1,
        "notifications_queued": 0,
    }
    assert introspect(oauth, rp, body["access_token"]).get_json() == {"active": False}
    assert introspect(oauth, rp, body["refresh_token"]).get_json() == {"active": False}
    with oauth.app.app_context():
        actors = db.session.scalars(
            select(ConsentRecord.actor).where(ConsentRecord.action == "withdrawn")
        ).all()
    assert actors == ["admin"]

    # Again, by member id: nothing is left to withdraw.
    again = runner.invoke(
        args=["members", "withdraw-consent", member_id, "--partner-id", rp.partner_id, "--json"]
    )
    assert again.exit_code == 0
    assert json.loads(again.stdout)["consents_withdrawn"] == 0


@pytest.mark.parametrize(
    "member, partner, field",
    [
        ("no-such-member", None, "member"),
        (None, "no-such-partner", "partner_id"),
        ("9" * 200, None, "member"),
        (None, "p" * 200, "partner_id"),
    ],
)
def test_the_command_line_withdrawal_refuses_unknown_ids(
    oauth, rp, member_id, member, partner, field
):
    args = ["members", "withdraw-consent", member or member_id]
    args += ["--partner-id", partner or rp.partner_id, "--json"]
    result = oauth.app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "not_found"
    assert json.loads(result.stdout)["field"] == field
