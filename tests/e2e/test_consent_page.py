"""The consent screen in a real browser: labels, defaults, CSP, and Allow back to the partner."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from idp.extensions import db
from idp.models import SSOSession
from idp.models.types import utcnow
from idp.services import sso
from tests.factories import make_client, make_member, make_partner

REDIRECT_URI = "https://partner.example/callback"


def logged_in_browser(live_server, context) -> str:
    """A member logged in through the session cookie; returns the client id."""
    app = live_server.app
    token = secrets.token_urlsafe(32)
    with app.app_context():
        member, _, _ = make_member()
        partner = make_partner(f"Sky Hotels {secrets.token_hex(2)}", "partner_company")
        client, _ = make_client(
            partner,
            redirect_uris=[REDIRECT_URI],
            scope="openid email phone card_number miles offline_access",
            purposes=["registration", "miles"],
        )
        now = utcnow()
        db.session.add(
            SSOSession(
                token_hash=sso._hash(token),
                member_id=member.id,
                auth_time=now,
                amr=["pwd", "otp", "mfa"],
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({sso.TOKEN_KEY: token})
        client_id, partner_name = client.client_id, partner.name
    context.add_cookies([{"name": "mam_session", "value": cookie, "url": live_server.url}])
    context.route("https://partner.example/**", lambda route: route.fulfill(body="partner site"))
    return client_id, partner_name


def authorize_url(live_server, client_id, scope):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "browser",
        }
    )
    return f"{live_server.url}/oauth/authorize?{query}"


def test_consent_screen_allow(live_server, context, artifacts):
    client_id, partner_name = logged_in_browser(live_server, context)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(
        authorize_url(live_server, client_id, "openid email phone card_number offline_access")
    )

    assert urlsplit(page.url).path.startswith("/consent/")
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text() == partner_name
    assert page.get_by_label("Your email address").is_checked()
    assert page.get_by_label("Your phone number").is_checked()
    assert not page.get_by_label("Allow access without time limit").is_checked()
    assert page.get_by_text("Your Miles & More card number").is_visible()
    assert page.get_by_role("button", name="Allow").is_visible()
    assert page.get_by_role("button", name="Deny").is_visible()
    page.screenshot(path=str(artifacts / "consent-page.png"), full_page=True)

    page.get_by_label("Your phone number").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["state"] == "browser"
    assert params["iss"] == live_server.url
    assert params["code"]
    assert not [e for e in errors if "Content Security Policy" in e]


def test_consent_screen_deny(live_server, context):
    client_id, _ = logged_in_browser(live_server, context)
    page = context.new_page()
    page.goto(authorize_url(live_server, client_id, "openid email"))
    assert page.get_by_label("Allow access without time limit").count() == 0
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["error"] == "access_denied" and params["state"] == "browser"
