"""Stop sharing (INTERFACE.md, Connected apps): one optional item ends at once, the rest stays.

The partner's live access and refresh tokens stop releasing the item on their
next use (UserInfo, introspection, the next refresh's ``scope``), the consent
keeps the rest and remembers the item as declined, the evidence gets a new
record, and the partner gets a CAEP ``token-claims-change`` Security Event
Token. Required items have no button; every bad request is refused whole.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, Client, Consent, ConsentRecord, PartnerNotification
from idp.models.types import utcnow
from idp.services import narrowing, notifications, signing_keys
from tests.login_flow import csrf_token
from tests.oauth.conftest import PKCE, redirect_params
from tests.oauth.test_connected_apps import sections

SCOPE = "openid profile email phone card_number miles offline_access"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def introspect(oauth, rp, token):
    return oauth.http.post("/oauth/introspect", data={"token": token}, headers=rp.basic())


def apps_page(oauth) -> str:
    return oauth.http.get("/account/apps").get_data(as_text=True)


def stop_sharing(oauth, partner_id, scope, csrf=True):
    form = {"scope": scope}
    if csrf:
        form["csrf_token"] = csrf_token(oauth.http.get("/account").get_data(as_text=True))
    return oauth.http.post(f"/account/apps/{partner_id}/stop-sharing", data=form)


def stop_buttons(section: str) -> list[str]:
    """The items of a partner's section that have a Stop sharing button."""
    return re.findall(
        r'name="scope" value="([^"]+)">\s*<button[^>]*>Stop sharing</button>', section
    )


def alert(html: str) -> str:
    match = re.search(r'role="alert">(.*?)</(?:div|p)>', html, re.S)
    assert match, "no role=alert on the page"
    return match.group(1)


def snapshot(app, member_id):
    """Everything a Stop sharing may write, to show that a refused one wrote nothing."""
    with app.app_context():
        consents = sorted(
            (c.id, c.scope, c.declined_scope, c.updated_at)
            for c in db.session.scalars(select(Consent).where(Consent.member_id == member_id))
        )
        records = db.session.scalar(select(func.count(ConsentRecord.id)))
        events = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.event == "consent.narrowed")
        )
        sets = db.session.scalar(select(func.count(PartnerNotification.id)))
        return consents, records, events, sets


def test_only_optional_items_have_a_stop_sharing_button(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    section = sections(apps_page(oauth))[rp.partner_name]
    # card_number and miles serve the contract purpose: required, no button.
    assert sorted(stop_buttons(section)) == ["email", "phone", "profile"]
    assert section.count('method="post"') >= 3
    assert 'name="csrf_token"' in section


def test_stop_sharing_narrows_the_live_tokens_at_once_and_keeps_the_rest(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    access, refresh = body["access_token"], body["refresh_token"]
    before = oauth.http.get("/oauth/userinfo", headers=bearer(access)).get_json()
    assert "email" in before and "given_name" in before

    response = stop_sharing(oauth, rp.partner_id, "email")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/account/apps"
    page = apps_page(oauth)
    status = re.search(r'role="status">(.*?)</div>', page, re.S)
    assert status and f"{rp.partner_name} no longer receives" in status.group(1)
    assert "Your email address" in status.group(1)
    assert stop_buttons(sections(page)[rp.partner_name]) == ["phone", "profile"]

    # The access token issued before: at once, without the item, with the rest.
    after = oauth.http.get("/oauth/userinfo", headers=bearer(access))
    assert after.status_code == 200
    claims = after.get_json()
    assert "email" not in claims and "email_verified" not in claims
    assert claims["given_name"] == before["given_name"]
    miles = oauth.http.get("/api/v1/me/miles", headers=bearer(access))
    assert miles.status_code == 200 and miles.get_json()["card_number"]
    for token in (access, refresh):
        answer = introspect(oauth, rp, token).get_json()
        assert answer["active"] is True
        assert "email" not in answer["scope"].split()
        assert {"phone", "miles", "card_number"} <= set(answer["scope"].split())

    # The next refresh returns the reduced scope, and so does its new access token.
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=refresh)
    assert refreshed.status_code == 200, refreshed.get_json()
    new = refreshed.get_json()
    assert "email" not in new["scope"].split() and "phone" in new["scope"].split()
    assert (
        "email"
        not in oauth.http.get("/oauth/userinfo", headers=bearer(new["access_token"])).get_json()
    )
    # Asking for the item explicitly at a refresh does not bring it back (RFC 6749 §6).
    again = oauth.token(
        rp, grant_type="refresh_token", refresh_token=new["refresh_token"], scope="openid email"
    )
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_scope"

    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).one()
        assert "email" not in consent.scopes and "phone" in consent.scopes
        assert "email" in consent.declined_scopes
        assert consent.withdrawn_at is None and consent.paused_at is None
        records = db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.consent_id == consent.id)
            .order_by(ConsentRecord.id)
        ).all()
        assert [r.action for r in records] == ["given", "narrowed"]
        assert "email" in records[0].scopes and "email" not in records[1].scopes
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "consent.narrowed")
        ).one()
        assert event.member_id == member_id
        assert event.details["scope"] == "email" and event.details["partner_id"] == rp.partner_id


def test_the_next_login_is_not_asked_again_and_gets_no_item(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    stop_sharing(oauth, rp.partner_id, "phone")
    response = oauth.authorize(rp, scope=SCOPE)
    params = redirect_params(response)  # no consent screen: the item was declined
    assert "code" in params
    pkce = PKCE.new()
    code, _ = oauth.code(
        rp, scope=SCOPE, code_challenge=pkce.challenge, code_challenge_method="S256"
    )
    body = oauth.exchange(rp, code, code_verifier=pkce.verifier).get_json()
    assert "phone" not in body["scope"].split() and "email" in body["scope"].split()


def test_a_code_issued_before_is_exchanged_for_the_reduced_scope(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    pkce = PKCE.new()
    code, _ = oauth.code(
        rp, scope=SCOPE, code_challenge=pkce.challenge, code_challenge_method="S256"
    )
    stop_sharing(oauth, rp.partner_id, "email")
    body = oauth.exchange(rp, code, code_verifier=pkce.verifier).get_json()
    assert "email" not in body["scope"].split()
    assert (
        "email"
        not in oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).get_json()
    )


def test_the_partner_gets_a_caep_token_claims_change_event(oauth, rp, member_id):
    with oauth.app.app_context():
        client = db.session.get(Client, rp.pk)
        client.security_event_uri = "https://partner.example/events"
        db.session.commit()
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    stop_sharing(oauth, rp.partner_id, "email")
    with oauth.app.app_context():
        (row,) = db.session.scalars(
            select(PartnerNotification).where(PartnerNotification.client_id == rp.pk)
        ).all()
        assert (row.kind, row.url) == ("security_event", "https://partner.example/events")
        token = jwt.decode(
            notifications.sign(row, utcnow()), signing_keys.public_key_set(), ["RS256"]
        )
    assert token.header["typ"] == "secevent+jwt"
    claims = token.claims
    assert claims["aud"] == rp.client_id and claims["iss"] == "http://127.0.0.1:5000"
    event = claims["events"][narrowing.TOKEN_CLAIMS_CHANGE_EVENT]
    assert narrowing.TOKEN_CLAIMS_CHANGE_EVENT == (
        "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
    )
    assert event["subject"] == {"format": "iss_sub", "iss": claims["iss"], "sub": claims["sub"]}
    assert event["initiating_entity"] == "user" and isinstance(event["event_timestamp"], int)
    assert set(event["claims"]["scope"].split()) == set(body["scope"].split()) - {"email"}
    userinfo = oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).get_json()
    assert claims["sub"] == userinfo["sub"]


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("miles", "needed for the service"),
        ("card_number", "needed for the service"),
        ("openid", "does not receive this item"),
        ("offline_access", "does not receive this item"),
        ("address", "does not receive this item"),
        ("status", "does not receive this item"),
        ("no-such-scope", "does not receive this item"),
        ("", "does not receive this item"),
        ("email phone", "does not receive this item"),
    ],
)
def test_a_required_or_unheld_item_is_refused_and_nothing_written(
    oauth, rp, member_id, scope, message
):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    before = snapshot(oauth.app, member_id)
    response = stop_sharing(oauth, rp.partner_id, scope)
    assert response.status_code == 400
    assert message in alert(response.get_data(as_text=True))
    assert snapshot(oauth.app, member_id) == before


def test_an_unknown_partner_is_404(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    before = snapshot(oauth.app, member_id)
    assert stop_sharing(oauth, "no-such-partner", "email").status_code == 404
    assert stop_sharing(oauth, "x" * 300, "email").status_code == 404
    assert snapshot(oauth.app, member_id) == before


def test_without_csrf_token_nothing_happens(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    before = snapshot(oauth.app, member_id)
    response = stop_sharing(oauth, rp.partner_id, "email", csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert "reload the page" in alert(response.get_data(as_text=True))
    assert snapshot(oauth.app, member_id) == before
    assert (
        "email"
        in oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).get_json()
    )


def test_another_members_partner_is_not_theirs_to_narrow(oauth, rp, member_id):
    other = oauth.member()
    oauth.login(other)
    body = oauth.tokens(rp, scope=SCOPE)
    oauth.login(member_id)  # this member never connected the partner
    before = snapshot(oauth.app, other)
    response = stop_sharing(oauth, rp.partner_id, "email")
    assert response.status_code == 400
    assert "does not receive this item" in alert(response.get_data(as_text=True))
    assert snapshot(oauth.app, other) == before
    assert (
        "email"
        in oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).get_json()
    )


def test_stop_sharing_needs_a_login(oauth, rp):
    response = oauth.http.post(
        f"/account/apps/{rp.partner_id}/stop-sharing", data={"scope": "email"}
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_stop_sharing_is_all_or_nothing(oauth, rp, member_id, monkeypatch):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    before = snapshot(oauth.app, member_id)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(narrowing.audit, "record", broken)
    with oauth.app.app_context():
        with pytest.raises(RuntimeError):
            narrowing.stop_sharing(member_id, rp.partner_id, "email")
        db.session.rollback()
    assert snapshot(oauth.app, member_id) == before
