"""A forgotten password in a real browser: the request, the mail, the new password and TOTP."""

from __future__ import annotations

import time

import pyotp

from tests.factories import make_member
from tests.login_flow import mailed_link

NEW_PASSWORD = "a fresh passphrase"


def test_forgotten_password_then_login_with_the_new_one(live_server, page, artifacts):
    with live_server.app_context():
        member, old_password, key = make_member(given_name="Jan", family_name="Nowak")
        email = member.email

    page.goto(f"{live_server.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/login/forgot")
    assert page.get_by_role("heading", level=1).inner_text() == "Reset your password"
    page.get_by_label("Email or card number").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    assert "we have sent a link" in page.get_by_role("status").inner_text()
    page.screenshot(path=str(artifacts / "password-reset-requested.png"), full_page=True)

    with live_server.app_context():
        link = mailed_link(email, "password_reset")
    page.goto(link)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.screenshot(path=str(artifacts / "password-reset-form.png"), full_page=True)
    page.get_by_role("button", name="Set new password").click()
    page.wait_for_url("**/login")
    assert "Your password has been changed" in page.get_by_role("status").inner_text()

    # The old password is refused; the new one and the next TOTP step log in.
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(old_password)
    page.get_by_role("button", name="Log in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Jan Nowak"
