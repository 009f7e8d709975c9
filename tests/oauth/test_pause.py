"""Pause and Resume on Connected apps: the restriction of processing of GDPR Art. 18.

While paused, every token of the partner is refused (introspection, UserInfo,
the miles API, refresh), a new authorization there gets ``access_denied``, and
the consent stays listed as "Paused"; Resume brings the unexpired tokens back.
Both are evidence and audit events, and the partner gets a Security Event Token.
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
from idp.services import notifications, restriction, signing_keys
from tests.login_flow import csrf_token
from tests.oauth.conftest import redirect_params
from tests.oauth.test_connected_apps import sections
from tests.oauth.test_stop_sharing import alert, bearer, introspect, stop_sharing

SCOPE = "openid profile email card_number miles offline_access"


def post(oauth, partner_id, action, csrf=True):
    form = {}
    if csrf:
        form["csrf_token"] = csrf_token(oauth.http.get("/account").get_data(as_text=True))
    return oauth.http.post(f"/account/apps/{partner_id}/{action}", data=form)


def status(html: str) -> str:
    match = re.search(r'role="status">(.*?)</div>', html, re.S)
    assert match, "no role=status on the page"
    return match.group(1)


def state(app, member_id):
    """What a pause or resume may write, to show that a refused one wrote nothing."""
    with app.app_context():
        consents = sorted(
            (c.id, c.paused_at, c.updated_at)
            for c in db.session.scalars(select(Consent).where(Consent.member_id == member_id))
        )
        records = db.session.scalar(select(func.count(ConsentRecord.id)))
        events = db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.event.in_(["consent.paused", "consent.resumed"])
            )
        )
        sets = db.session.scalar(select(func.count(PartnerNotification.id)))
        return consents, records, events, sets


def refused_everywhere(oauth, rp, body):
    for token in (body["access_token"], body["refresh_token"]):
        assert introspect(oauth, rp, token).get_json() == {"active": False}
    userinfo = oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"]))
    assert userinfo.status_code == 401
    assert 'error="invalid_token"' in userinfo.headers["WWW-Authenticate"]
    miles = oauth.http.get("/api/v1/me/miles", headers=bearer(body["access_token"]))
    assert miles.status_code == 401
    refresh = oauth.token(rp, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refresh.status_code == 400 and refresh.get_json()["error"] == "invalid_grant"


def test_pause_stops_every_token_and_resume_brings_them_back(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    assert (
        oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).status_code == 200
    )

    response = post(oauth, rp.partner_id, "pause")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/account/apps"
    page = oauth.http.get("/account/apps").get_data(as_text=True)
    assert f"Access for {rp.partner_name} is paused" in status(page)
    section = sections(page)[rp.partner_name]
    assert "Paused" in section and ">Resume</button>" in section
    assert ">Pause</button>" not in section
    assert "Revoke access" in section  # the consent stays, and can still be withdrawn
    refused_everywhere(oauth, rp, body)

    response = post(oauth, rp.partner_id, "resume")
    assert response.status_code == 303
    page = oauth.http.get("/account/apps").get_data(as_text=True)
    assert f"Access for {rp.partner_name} is resumed" in status(page)
    section = sections(page)[rp.partner_name]
    assert ">Pause</button>" in section and ">Resume</button>" not in section
    # The same tokens work again: the refused refresh during the pause used nothing up.
    assert (
        oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).status_code == 200
    )
    assert introspect(oauth, rp, body["access_token"]).get_json()["active"] is True
    refreshed = oauth.token(rp, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()

    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).one()
        assert consent.paused_at is None and consent.withdrawn_at is None
        actions = db.session.scalars(
            select(ConsentRecord.action)
            .where(ConsentRecord.consent_id == consent.id)
            .order_by(ConsentRecord.id)
        ).all()
        assert actions == ["given", "paused", "resumed"]
        events = db.session.scalars(
            select(AuditEvent.event)
            .where(AuditEvent.event.in_(["consent.paused", "consent.resumed"]))
            .order_by(AuditEvent.id)
        ).all()
        assert events == ["consent.paused", "consent.resumed"]


def test_a_new_authorization_at_a_paused_partner_releases_nothing(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    post(oauth, rp.partner_id, "pause")
    with oauth.app.app_context():
        records = db.session.scalar(select(func.count(ConsentRecord.id)))
    for prompt in (None, "consent", "none"):
        params = redirect_params(oauth.authorize(rp, scope=SCOPE, prompt=prompt))
        assert params["error"] == "access_denied" and "code" not in params
        assert "paused" in params["error_description"]
        assert params["iss"] == "http://127.0.0.1:5000" and params["state"].startswith("state-")
    with oauth.app.app_context():
        assert db.session.scalar(select(func.count(ConsentRecord.id))) == records
    # Another client of the same partner is paused with it.
    from tests.oauth.test_withdrawal import second_client_of

    other = second_client_of(oauth, rp)
    params = redirect_params(oauth.authorize(other, scope="openid email"))
    assert params["error"] == "access_denied"
    # After Resume the standing consent answers again, without asking.
    post(oauth, rp.partner_id, "resume")
    assert "code" in redirect_params(oauth.authorize(rp, scope=SCOPE))


def test_a_code_issued_before_the_pause_is_refused(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    code, _ = oauth.code(rp, scope="openid email")
    post(oauth, rp.partner_id, "pause")
    response = oauth.exchange(rp, code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_the_partner_is_told_of_the_pause_and_the_resume(oauth, rp, member_id):
    with oauth.app.app_context():
        client = db.session.get(Client, rp.pk)
        client.security_event_uri = "https://partner.example/events"
        db.session.commit()
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    post(oauth, rp.partner_id, "pause")
    post(oauth, rp.partner_id, "resume")
    with oauth.app.app_context():
        rows = db.session.scalars(
            select(PartnerNotification)
            .where(PartnerNotification.client_id == rp.pk)
            .order_by(PartnerNotification.id)
        ).all()
        assert [(r.kind, r.url) for r in rows] == [
            ("security_event", "https://partner.example/events")
        ] * 2
        tokens = [
            jwt.decode(notifications.sign(r, utcnow()), signing_keys.public_key_set(), ["RS256"])
            for r in rows
        ]
    issuer = "http://127.0.0.1:5000"
    paths = ("/secevent/consent-paused", "/secevent/consent-resumed")
    for token, path in zip(tokens, paths, strict=True):
        assert token.header["typ"] == "secevent+jwt"
        assert token.claims["aud"] == rp.client_id
        (event,) = token.claims["events"].values()
        assert list(token.claims["events"]) == [issuer + path]
        assert event["subject"]["sub"] == token.claims["sub"]
        assert event["initiator"] == "member" and "email" in event["scope"].split()


def test_stop_sharing_while_paused_keeps_the_pause(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    post(oauth, rp.partner_id, "pause")
    assert stop_sharing(oauth, rp.partner_id, "email").status_code == 303
    refused_everywhere(oauth, rp, body)
    post(oauth, rp.partner_id, "resume")
    claims = oauth.http.get("/oauth/userinfo", headers=bearer(body["access_token"])).get_json()
    assert "email" not in claims and "given_name" in claims


def test_revoke_access_while_paused_withdraws(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    post(oauth, rp.partner_id, "pause")
    from tests.oauth.test_withdrawal import revoke_from_connected_apps

    assert revoke_from_connected_apps(oauth, rp.partner_id).status_code == 303
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.member_id == member_id)).one()
        assert consent.withdrawn_at is not None
    # Nothing left to resume; a new login asks for consent again.
    response = post(oauth, rp.partner_id, "resume")
    assert response.status_code == 400
    assert oauth.authorize(rp, scope=SCOPE).headers["Location"].startswith("/consent/")


@pytest.mark.parametrize(
    ("first", "again", "message"),
    [("pause", "pause", "is paused already"), (None, "resume", "is not paused")],
)
def test_pausing_twice_or_resuming_unpaused_is_refused(oauth, rp, member_id, first, again, message):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    if first:
        post(oauth, rp.partner_id, first)
    before = state(oauth.app, member_id)
    response = post(oauth, rp.partner_id, again)
    assert response.status_code == 400
    assert message in alert(response.get_data(as_text=True))
    assert state(oauth.app, member_id) == before


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_bad_requests_write_nothing(oauth, rp, member_id, action):
    other = oauth.member()
    oauth.login(other)
    oauth.tokens(rp, scope=SCOPE)
    if action == "resume":
        post(oauth, rp.partner_id, "pause")
    oauth.login(member_id)  # this member never connected the partner
    before = state(oauth.app, other), state(oauth.app, member_id)
    assert post(oauth, "no-such-partner", action).status_code == 404
    response = post(oauth, rp.partner_id, action)
    assert response.status_code == 400
    assert "receives no data from your account" in alert(response.get_data(as_text=True))
    response = post(oauth, rp.partner_id, action, csrf=False)
    assert response.status_code == 400 and "The form has expired" in response.get_data(as_text=True)
    assert (state(oauth.app, other), state(oauth.app, member_id)) == before


def test_pause_needs_a_login(oauth, rp):
    for action in ("pause", "resume"):
        response = oauth.http.post(f"/account/apps/{rp.partner_id}/{action}")
        assert response.status_code in (302, 400)


def test_pause_is_all_or_nothing(oauth, rp, member_id, monkeypatch):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    before = state(oauth.app, member_id)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(restriction.audit, "record", broken)
    with oauth.app.app_context():
        with pytest.raises(RuntimeError):
            restriction.pause_partner(member_id, rp.partner_id)
        db.session.rollback()
    assert state(oauth.app, member_id) == before


def test_a_long_history_shows_the_latest_and_folds_the_rest(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    section = sections(oauth.http.get("/account/apps").get_data(as_text=True))[rp.partner_name]
    assert "<details" not in section  # one record: nothing to fold
    for _ in range(3):
        post(oauth, rp.partner_id, "pause")
        post(oauth, rp.partner_id, "resume")
    section = sections(oauth.http.get("/account/apps").get_data(as_text=True))[rp.partner_name]
    shown, folded = section.split("<details", 1)
    assert "<summary>Show all 7 changes</summary>" in folded
    # Newest first: the five latest above, the two oldest folded.
    assert shown.count("<tr>") - 1 == 5 and folded.count("<tr>") - 1 == 2
    assert "Access resumed" in shown and "Consent given" in folded
    assert "Consent given" not in shown
