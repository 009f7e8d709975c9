"""The demo partner website (a real Authlib client) logs a member in through the provider.

Both sites are served on free loopback ports: the member clicks "Log in with
Miles & More" at the partner, logs in with password and TOTP, allows access,
and the partner shows the released claims and the miles balance it fetched
with the access token; signing out at the partner ends the provider session
through RP-initiated logout.
"""

from __future__ import annotations

import pyotp


def test_member_logs_in_to_the_demo_partner_and_out_again(
    live_server, partner_site, page, artifacts
):
    partner_url, seed = partner_site
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(partner_url)
    page.get_by_role("button", name="Log in with Miles & More").click()

    page.wait_for_url(f"{live_server.url}/login**")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in with Miles & More"
    page.get_by_label("Email or card number").fill(seed.card_number)
    page.get_by_label("Password").fill(seed.password)
    page.get_by_role("button", name="Log in").click()

    page.wait_for_url("**/login/verify")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(seed.totp_secret).now())
    page.get_by_role("button", name="Verify").click()

    page.wait_for_url("**/consent/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Demo Partner Shop"
    page.screenshot(path=str(artifacts / "partner-journey-consent.png"), full_page=True)
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{partner_url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Erika"
    body = page.locator("main").inner_text()
    assert seed.email in body
    assert seed.card_number in body
    assert "senator" in body
    assert page.locator("#miles-balance").inner_text() == "48,250 miles"
    page.screenshot(path=str(artifacts / "partner-journey-signed-in.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{partner_url}/**")
    assert page.get_by_role("button", name="Log in with Miles & More").is_visible()

    # The provider session ended too: the account area asks for a login again.
    page.goto(f"{live_server.url}/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in with Miles & More"
    assert not [e for e in errors if "Content Security Policy" in e]
