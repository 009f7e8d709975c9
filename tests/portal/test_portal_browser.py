"""The developer portal in a browser (Playwright + chromium), on a live server.

A developer signs in with two factors, creates the partner, registers a
client, previews its consent screen in German and submits it; an operator
approves it in /admin; a member who is no developer logs in to it. Then
``Rotate secret``, with the old secret still accepted by the token endpoint
during the grace period.
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from idp.services.registration import (
    ClientRequest,
    add_developer,
    create_partner,
    register_partner_client,
)
from idp.services.staff import add_staff
from tests.factories import make_member

pytestmark = pytest.mark.browser


def new_member(live_server, **fields):
    with live_server.app_context():
        member, password, key = make_member(**fields)
        return member.id, member.email, password, key


def log_in(page, email: str, password: str, key: str) -> None:
    """On the login page the provider sent the browser to: password, then the app's code."""
    page.wait_for_url("**/login**")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify**")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()


def basic(client_id: str, secret: str) -> dict:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_register_preview_submit_approve_and_a_member_logs_in(live_server, browser, artifacts):
    _dev_id, dev_email, dev_password, dev_key = new_member(live_server)
    redirect_uri = f"{live_server.url}/partner-callback"

    developer = browser.new_context(locale="en-GB")
    page = developer.new_page()
    page.goto(f"{live_server.url}/developers")
    log_in(page, dev_email, dev_password, dev_key)
    page.wait_for_url("**/developers")
    page.get_by_role("button", name="Create a partner organisation").click()
    page.get_by_label("Organisation name").fill("Sky Hotels")
    page.get_by_role("button", name="Create partner").click()
    page.wait_for_url("**/developers")
    assert page.get_by_role("heading", level=1).inner_text() == "Partner developers"

    page.get_by_role("button", name="Register a client").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Register a client"
    page.get_by_label("Client name", exact=True).fill("Sky Hotels Booking")
    page.get_by_label("Redirect URIs", exact=True).fill(redirect_uri)
    page.get_by_label("Registration on the partner's website").check()
    page.get_by_label("Privacy policy URL").fill("https://sky-hotels.example/privacy")
    page.screenshot(path=str(artifacts / "portal-register.png"), full_page=True)
    # The live preview: the unsaved form, in the four languages.
    page.get_by_role("button", name="Preview", exact=True).click()
    german = page.get_by_role("region", name="Deutsch")
    assert "Sky Hotels Booking möchte Ihr Miles & More Konto verwenden" in german.inner_text()
    page.go_back()
    page.get_by_role("button", name="Register", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Client registered"
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    page.screenshot(path=str(artifacts / "portal-secret.png"), full_page=True)

    page.get_by_role("link", name="Continue to Sky Hotels Booking").click()
    page.get_by_role("link", name="Preview the consent screen").click()
    page.get_by_role("navigation", name="Language of the preview").get_by_role(
        "link", name="Deutsch"
    ).click()
    preview = page.locator(".consent-preview")
    assert preview.get_attribute("lang") == "de"
    assert "möchte Ihr Miles & More Konto verwenden" in preview.inner_text()
    page.screenshot(path=str(artifacts / "portal-preview-de.png"), full_page=True)

    page.goto(f"{live_server.url}/developers")
    page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_url("**/developers")
    section = page.get_by_role("region", name="Sky Hotels Booking")
    assert "Waiting for approval" in section.inner_text()
    page.screenshot(path=str(artifacts / "portal-home.png"), full_page=True)
    developer.close()

    operator_id, op_email, op_password, op_key = new_member(live_server)
    with live_server.app_context():
        add_staff(operator_id)
    operator = browser.new_context(locale="en-GB")
    page = operator.new_page()
    page.goto(f"{live_server.url}/admin")
    log_in(page, op_email, op_password, op_key)
    page.wait_for_url("**/admin")
    item = page.get_by_role("region", name="Sky Hotels Booking")
    item.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/admin")
    assert "is approved" in page.get_by_role("status").inner_text()
    operator.close()

    _member_id, email, password, key = new_member(live_server)
    verifier = secrets.token_urlsafe(48)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    member = browser.new_context(locale="en-GB")
    page = member.new_page()
    page.goto(f"{live_server.url}/oauth/authorize?{urlencode(query)}")
    log_in(page, email, password, key)
    page.wait_for_url("**/consent/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Sky Hotels"
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}?**")
    answer = parse_qs(urlsplit(page.url).query)
    member.close()
    assert answer["state"] == ["s-1"]
    tokens = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        headers=basic(client_id, secret),
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    assert "id_token" in tokens.json()


def developer_with_client(live_server):
    """A new member who develops for a new partner, and its client:
    ((id, email, password, TOTP key), client_id, secret)."""
    developer = new_member(live_server)
    with live_server.app_context():
        partner = create_partner("Rail & Fly", "partner_company")
        add_developer(partner, developer[0])
        client, secret = register_partner_client(
            ClientRequest(
                partner_id=partner.id,
                client_name="Rail & Fly Tickets",
                redirect_uris=["https://rail.example/callback"],
                scope="openid email",
            )
        )
        return developer, client.client_id, secret


def test_rotate_secret_in_the_browser_keeps_the_old_secret_for_the_grace_period(
    live_server, browser, artifacts
):
    (dev_id, dev_email, dev_password, dev_key), client_id, old = developer_with_client(live_server)

    def token_status(secret: str) -> int:
        return requests.post(
            f"{live_server.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(client_id, secret),
            timeout=10,
        ).status_code

    assert token_status(old) == 200
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/developers/clients/{client_id}")
    log_in(page, dev_email, dev_password, dev_key)
    page.wait_for_url(f"**/developers/clients/{client_id}")
    page.get_by_label("Keep the old secret working for (hours)").fill("2")
    page.get_by_role("button", name="Rotate secret").click()
    assert page.get_by_role("heading", level=1).inner_text() == "New client secret"
    assert "The old secret keeps working until" in page.locator("main").inner_text()
    new = page.locator("#client-secret").inner_text()
    page.screenshot(path=str(artifacts / "portal-rotated.png"), full_page=True)
    context.close()

    assert new != old
    assert token_status(new) == 200
    assert token_status(old) == 200  # within the grace period
    assert token_status("not-the-secret") == 401
