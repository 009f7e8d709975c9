"""The member's whole journey with one partner, in a real browser (issue: consent screens).

Log in through the partner, consent with one scope unticked, the partner gets
only what was ticked, Connected apps shows it, Revoke access ends it at once
(the partner's next call fails), and logging in again shows the screen again.
Screenshots of the consent screen in four languages and for a customised
partner are saved as artefacts.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import requests

from idp.extensions import db
from idp.models import Partner
from idp.services import branding
from tests.factories import make_client, make_member, make_partner

REDIRECT_URI = "https://partner.example/callback"
SCOPE = "openid email phone card_number miles offline_access"


def partner_client(live_server, name: str, **customisation):
    with live_server.app_context():
        partner = make_partner(name, "partner_company")
        if customisation:
            branding.customise(db.session.get(Partner, partner.id), **customisation)
        client, secret = make_client(
            partner,
            redirect_uris=[REDIRECT_URI],
            scope=SCOPE,
            purposes=["registration", "miles"],
            policy_uri="https://partner.example/privacy",
            tos_uri="https://partner.example/terms",
        )
        return client.client_id, secret


def authorize_url(live_server, client_id: str, **extra) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": secrets.token_hex(4),
        **extra,
    }
    return f"{live_server.url}/oauth/authorize?{urlencode(query)}"


def callback_params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_consent_journey_from_login_to_revoking(live_server, context, artifacts):
    with live_server.app_context():
        member, password, key = make_member(given_name="Jan", family_name="de Vries")
        email = member.email
    client_id, secret = partner_client(live_server, "Tulip Hotels")
    context.route("https://partner.example/**", lambda route: route.fulfill(body="partner site"))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Log in through the partner's request.
    page.goto(authorize_url(live_server, client_id))
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify*")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()

    # The consent screen: who, what, why, for how long.
    page.wait_for_url("**/consent/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Tulip Hotels"
    assert page.get_by_text("Collecting and redeeming miles").is_visible()
    assert page.get_by_text("Your Miles & More card number").is_visible()
    assert page.get_by_text("Access lasts until").is_visible()
    assert page.get_by_role("link", name="Privacy policy").is_visible()
    assert not page.get_by_label("Allow access without time limit").is_checked()
    page.get_by_label("Your phone number").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    code = callback_params(page.url)["code"]

    # The partner gets the data that was ticked, and nothing else.
    tokens = requests.post(
        f"{live_server.url}/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(client_id, secret),
        timeout=10,
    ).json()
    assert "phone" not in tokens["scope"].split()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    userinfo = requests.get(f"{live_server.url}/oauth/userinfo", headers=bearer, timeout=10)
    assert userinfo.status_code == 200
    assert userinfo.json()["email"] == email and "phone_number" not in userinfo.json()

    # Connected apps shows the partner; Revoke access ends its access at once.
    page.goto(f"{live_server.url}/account")
    account_nav = page.get_by_role("navigation", name="Your account")
    account_nav.get_by_role("link", name="Connected apps").click()
    page.wait_for_url("**/account/apps")
    assert account_nav.locator("[aria-current=page]").inner_text() == "Connected apps"
    assert page.get_by_role("heading", level=1).inner_text() == "Connected apps"
    section = page.locator(
        "section.connected-app", has=page.get_by_role("heading", name="Tulip Hotels")
    )
    assert section.get_by_role("listitem").filter(has_text="Your email address").is_visible()
    page.screenshot(path=str(artifacts / "connected-apps.png"), full_page=True)
    section.get_by_role("button", name="Revoke access").click()
    page.wait_for_url(re.compile(r".*/account/apps/[^/]+/revoke\??$"))
    assert "Revoke access for Tulip Hotels?" in page.get_by_role("heading", level=1).inner_text()
    page.screenshot(path=str(artifacts / "connected-apps-confirm.png"), full_page=True)
    page.get_by_role("button", name="Revoke access").click()
    page.wait_for_url("**/account/apps")
    assert "You have revoked access for Tulip Hotels" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Revoke access").count() == 0
    page.screenshot(path=str(artifacts / "connected-apps-revoked.png"), full_page=True)

    # The partner's next calls fail, the refresh token too.
    userinfo = requests.get(f"{live_server.url}/oauth/userinfo", headers=bearer, timeout=10)
    assert userinfo.status_code == 401
    miles = requests.get(f"{live_server.url}/api/v1/me/miles", headers=bearer, timeout=10)
    assert miles.status_code == 401
    refresh = requests.post(
        f"{live_server.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client_id, secret),
        timeout=10,
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"

    # Logging in with the partner again asks again.
    page.goto(authorize_url(live_server, client_id))
    page.wait_for_url("**/consent/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Tulip Hotels"
    assert page.get_by_label("Your phone number").is_checked()

    # The screen in every language, chosen by ui_locales.
    buttons = {"en": "Allow", "de": "Zulassen", "nl": "Toestaan", "pl": "Zezwól"}
    for locale, allow in buttons.items():
        page.goto(authorize_url(live_server, client_id, ui_locales=locale))
        page.wait_for_url("**/consent/*")
        assert page.locator("html").get_attribute("lang") == locale
        assert page.get_by_role("heading", level=1).inner_text() == "Tulip Hotels"
        assert page.get_by_role("button", name=allow, exact=True).is_visible()
        page.screenshot(path=str(artifacts / f"consent-{locale}.png"), full_page=True)

    # A partner with its own logo, colour and words, inside the same layout.
    logo = "https://partner.example/logo.svg"
    context.route(
        logo,
        lambda route: route.fulfill(
            content_type="image/svg+xml",
            body='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
            '<rect width="64" height="64" rx="12" fill="#0b3d91"/>'
            '<circle cx="32" cy="32" r="16" fill="#fff"/></svg>',
        ),
    )
    custom_id, _ = partner_client(
        live_server,
        "Harbour Bank",
        logo_uri=logo,
        brand_colour="#0b3d91",
        extra_texts={"en": "Earn 2 miles for every euro spent with your Harbour Bank card."},
    )
    page.goto(authorize_url(live_server, custom_id, ui_locales="en"))
    page.wait_for_url("**/consent/*")
    band = page.locator(".partner-band")
    assert band.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 61, 145)"
    assert page.get_by_role("img", name="Logo of Harbour Bank").is_visible()
    assert page.get_by_text("Earn 2 miles for every euro").is_visible()
    page.screenshot(path=str(artifacts / "consent-customised.png"), full_page=True)

    assert not [e for e in errors if "Content Security Policy" in e], errors
