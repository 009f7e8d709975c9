"""Connected apps (INTERFACE.md): who gets what, for what, since and until when; Revoke access."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from idp.extensions import db
from idp.models import Consent
from idp.models.types import utcnow
from tests.login_flow import csrf_token, h1
from tests.oauth.conftest import redirect_params

SCOPE = "openid email phone card_number miles offline_access"


def sections(html: str) -> dict[str, str]:
    found = re.findall(
        r'<section class="connected-app"[^>]*>\s*<h2[^>]*>(.*?)</h2>(.*?)</section>', html, re.S
    )
    return {unescape(name): body for name, body in found}


def test_the_page_needs_a_login(oauth):
    response = oauth.http.get("/account/apps")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = oauth.http.post("/account/apps/x/revoke")
    assert response.status_code in (302, 400)


def test_overview_links_to_connected_apps(oauth, member_id):
    oauth.login(member_id)
    html = oauth.http.get("/account").get_data(as_text=True)
    assert 'href="/account/apps"' in html


def test_one_section_per_partner_with_data_purposes_and_period(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.answer(oauth.authorize(rp, scope=SCOPE), scopes=["email"])
    miles_only = "openid card_number miles offline_access"
    unlimited = oauth.client("Blue Airline", "lhg_airline", scope=miles_only, purposes=["miles"])
    response = oauth.answer(oauth.authorize(unlimited, scope=miles_only), unlimited=True)
    assert "code" in redirect_params(response)

    page = oauth.http.get("/account/apps")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and h1(html) == "Connected apps"
    found = sections(html)
    assert set(found) == {"Blue Airline", rp.partner_name}

    limited = found[rp.partner_name]
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.client_id == rp.pk)).one()
        until = consent.expires_at
    assert f"{until:%B} {until.day}, {until.year}" in limited
    assert "Without time limit" not in limited
    assert (
        "Your email address" in limited and "Your phone number" not in limited.split("History")[0]
    )
    assert "Collecting and redeeming miles" in limited and "Registration on the partner" in limited
    assert "Not used yet" in limited
    assert ">Revoke access</button>" in limited
    assert "Consent given" in limited

    assert "Without time limit" in found["Blue Airline"]


def test_last_use_is_shown(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope="openid email")
    oauth.http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    html = oauth.http.get("/account/apps").get_data(as_text=True)
    assert "Not used yet" not in sections(html)[rp.partner_name]


def test_revoke_needs_the_csrf_token_and_changes_nothing_without_it(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    response = oauth.http.post(f"/account/apps/{rp.partner_id}/revoke", data={})
    assert response.status_code == 400
    response = oauth.http.post(
        f"/account/apps/{rp.partner_id}/revoke", data={"csrf_token": "forged"}
    )
    assert response.status_code == 400
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.client_id == rp.pk)).one()
        assert consent.withdrawn_at is None


def test_revoke_of_an_unknown_partner_is_404(oauth, member_id):
    oauth.login(member_id)
    token = csrf_token(oauth.http.get("/account").get_data(as_text=True))
    for partner_id in ("0" * 32, "x" * 300):
        response = oauth.http.post(f"/account/apps/{partner_id}/revoke", data={"csrf_token": token})
        assert response.status_code == 404


def test_revoked_partner_shows_its_history_without_a_button(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    page = oauth.http.get(f"/account/apps/{rp.partner_id}/revoke").get_data(as_text=True)
    oauth.http.post(f"/account/apps/{rp.partner_id}/revoke", data={"csrf_token": csrf_token(page)})
    html = oauth.http.get("/account/apps").get_data(as_text=True)
    assert re.search(r'role="status">\s*You have revoked access for Sky Hotels', html)
    section = sections(html)[rp.partner_name]
    assert "Revoke access" not in section
    assert section.index("Consent withdrawn") < section.index("Consent given")


def test_an_expired_grant_is_no_longer_connected(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.client_id == rp.pk)).one()
        consent.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    section = sections(oauth.http.get("/account/apps").get_data(as_text=True))[rp.partner_name]
    assert "Revoke access" not in section and "receives no data" in section


def test_another_members_consents_are_not_shown(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    other = oauth.member()
    oauth.login(other)
    html = oauth.http.get("/account/apps").get_data(as_text=True)
    assert sections(html) == {} and "No partner receives data" in html
    # Nor can the other member withdraw the first one's consent.
    token = csrf_token(oauth.http.get("/account").get_data(as_text=True))
    oauth.http.post(f"/account/apps/{rp.partner_id}/revoke", data={"csrf_token": token})
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.client_id == rp.pk)).one()
        assert consent.withdrawn_at is None


def test_revoke_access_asks_for_confirmation_on_a_page_of_its_own(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    apps = oauth.http.get("/account/apps").get_data(as_text=True)
    section = sections(apps)[rp.partner_name]
    assert f'<form method="get" action="/account/apps/{rp.partner_id}/revoke">' in section

    page = oauth.http.get(f"/account/apps/{rp.partner_id}/revoke")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r"<h1>\s*Revoke access for Sky Hotels\?\s*</h1>", html)
    assert "Your email address" in html
    assert f'<form method="post" action="/account/apps/{rp.partner_id}/revoke">' in html
    assert ">Revoke access</button>" in html
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.client_id == rp.pk)).one()
        assert consent.withdrawn_at is None, "showing the confirmation withdraws nothing"

    response = oauth.http.post(
        f"/account/apps/{rp.partner_id}/revoke", data={"csrf_token": csrf_token(html)}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/apps")
    with oauth.app.app_context():
        consent = db.session.scalars(select(Consent).where(Consent.client_id == rp.pk)).one()
        assert consent.withdrawn_at is not None


def test_the_confirmation_of_an_unknown_or_unconnected_partner(oauth, rp, member_id):
    oauth.login(member_id)
    for partner_id in ("0" * 32, "x" * 300):
        assert oauth.http.get(f"/account/apps/{partner_id}/revoke").status_code == 404
    response = oauth.http.get(f"/account/apps/{rp.partner_id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/apps")
    html = oauth.http.get("/account/apps").get_data(as_text=True)
    assert re.search(r'role="status">\s*Sky Hotels receives no data from your account', html)


def test_the_confirmation_needs_a_login(oauth, rp):
    response = oauth.http.get(f"/account/apps/{rp.partner_id}/revoke")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
