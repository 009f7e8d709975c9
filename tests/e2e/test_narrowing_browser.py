"""Connected apps in a real browser: Stop sharing one item, then Pause and Resume the partner.

The partner's access token, issued before, is checked after each step: the
stopped item is gone from UserInfo at once, the pause refuses the token, and
the resume brings it back without the stopped item. Screenshots are saved.
"""

from __future__ import annotations

import pyotp
import requests

from tests.factories import issue_token, make_client, make_consent, make_member, make_partner

SCOPE = "openid profile email card_number miles offline_access"


def test_stop_sharing_and_pause_on_connected_apps(live_server, context, artifacts):
    with live_server.app_context():
        member, password, key = make_member(given_name="Ola", family_name="Nowak")
        email = member.email
        client, _ = make_client(
            make_partner("Amber Hotels", "partner_company"),
            scope=SCOPE,
            purposes=["registration", "miles"],
        )
        consent = make_consent(member, client)
        access_token = issue_token(member, client, SCOPE, consent=consent).access_token
    bearer = {"Authorization": f"Bearer {access_token}"}

    def userinfo():
        return requests.get(f"{live_server.url}/oauth/userinfo", headers=bearer, timeout=10)

    assert userinfo().json()["email"] == email

    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify*")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account")
    page.goto(f"{live_server.url}/account/apps")

    section = page.locator(
        "section.connected-app", has=page.get_by_role("heading", name="Amber Hotels")
    )
    email_item = section.get_by_role("listitem").filter(has_text="Your email address")
    card_item = section.get_by_role("listitem").filter(has_text="card number")
    assert card_item.get_by_role("button", name="Stop sharing").count() == 0
    email_item.get_by_role("button", name="Stop sharing").click()
    page.wait_for_url("**/account/apps")
    status = page.get_by_role("status")
    assert "Amber Hotels no longer receives" in status.inner_text()
    assert section.get_by_role("listitem").filter(has_text="Your email address").count() == 0
    claims = userinfo().json()
    assert "email" not in claims and claims["given_name"] == "Ola"
    page.screenshot(path=str(artifacts / "connected-apps-stop-sharing.png"), full_page=True)

    section.get_by_role("button", name="Pause").click()
    page.wait_for_url("**/account/apps")
    assert "is paused" in page.get_by_role("status").inner_text()
    assert section.locator(".badge", has_text="Paused").is_visible()
    assert userinfo().status_code == 401
    page.screenshot(path=str(artifacts / "connected-apps-paused.png"), full_page=True)

    section.get_by_role("button", name="Resume").click()
    page.wait_for_url("**/account/apps")
    assert "is resumed" in page.get_by_role("status").inner_text()
    assert section.get_by_role("button", name="Pause").is_visible()
    resumed = userinfo()
    assert resumed.status_code == 200 and "email" not in resumed.json()
