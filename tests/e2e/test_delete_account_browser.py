"""Deleting the account in a real browser: from the account page to a login that fails."""

from __future__ import annotations

import pyotp

from idp.extensions import db
from idp.services import second_factor
from tests.factories import make_member


def test_member_deletes_the_account_and_cannot_log_in_again(live_server, page, artifacts):
    with live_server.app_context():
        member, password, key = make_member()
        codes = second_factor.new_recovery_codes(member)
        db.session.commit()
        email = member.email

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/account")

    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Delete account").click()
    page.wait_for_url(f"{live_server.url}/account/delete")
    assert page.locator("h1").inner_text() == "Delete your account"
    page.get_by_label("Password").fill("not my password at all")
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Delete my account").click()
    assert "has not been deleted" in page.get_by_role("alert").inner_text()
    page.screenshot(path=str(artifacts / "delete-account-refused.png"), full_page=True)

    page.get_by_label("Password").fill(password)
    page.get_by_label("Authentication code").fill(codes[1])
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Your account has been deleted"
    assert page.get_by_role("status").is_visible()
    page.screenshot(path=str(artifacts / "delete-account-done.png"), full_page=True)

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    assert page.locator("h1").inner_text() == "Log in with Miles & More"
