"""A new member in a real browser: enrol TOTP by the mailed link, keep the recovery codes, log out,
log in twice."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.factories import make_member
from tests.login_flow import mailed_link

LOCALES = ("en", "de", "nl", "pl")
#: The login page's heading and button in each language.
LOGIN_WORDS = {
    "en": ("Log in with Miles & More", "Log in"),
    "de": ("Mit Miles & More anmelden", "Anmelden"),
    "nl": ("Inloggen met Miles & More", "Inloggen"),
    "pl": ("Zaloguj się przez Miles & More", "Zaloguj się"),
}


@pytest.fixture
def new_member(live_server):
    with live_server.app_context():
        member, password, _none = make_member(
            totp=False, given_name="Marta", family_name="Kowalska"
        )
        return member.email, password


def _no_csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _log_in_with_password(page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_new_member_enrols_then_logs_in_with_totp_and_with_a_recovery_code(
    live_server, page, artifacts, new_member
):
    email, password = new_member
    errors = _no_csp_errors(page)

    _log_in_with_password(page, live_server.url, email, password)
    page.wait_for_url("**/login/enrol/email")
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    assert "Follow it to set up two-step verification" in page.get_by_role("status").inner_text()
    page.screenshot(path=str(artifacts / "login-check-email.png"), full_page=True)
    with live_server.app_context():
        link = mailed_link(email)
    page.goto(link)
    page.wait_for_url("**/login/enrol")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step verification"
    assert page.locator(".qr svg").is_visible()
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    page.screenshot(path=str(artifacts / "login-enrolment.png"), full_page=True)

    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your recovery codes"
    assert page.get_by_role("status").filter(has_text="Two-step verification is set up").is_visible()
    codes = page.locator("code.recovery-code").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=str(artifacts / "login-recovery-codes.png"), full_page=True)

    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Marta Kowalska"
    page.screenshot(path=str(artifacts / "account-overview.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert "You have logged out." in page.get_by_role("status").inner_text()

    # Again, with the authenticator app: the next step's code (the server allows one step of
    # drift), never the step already used at enrolment.
    _log_in_with_password(page, live_server.url, email, password)
    page.wait_for_url("**/login/verify")
    assert page.get_by_role("heading", level=1).inner_text() == "Two-step verification"
    page.screenshot(path=str(artifacts / "login-second-factor.png"), full_page=True)
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account")

    # The logout page, then once more with a recovery code.
    page.goto(f"{live_server.url}/logout")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    _log_in_with_password(page, live_server.url, email, password)
    page.wait_for_url("**/login/verify")
    page.get_by_role("link", name="Use a recovery code").click()
    page.wait_for_url("**/login/verify/recovery")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Marta Kowalska"

    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_wrong_password_shows_an_alert(live_server, page, new_member):
    email, _password = new_member
    _log_in_with_password(page, live_server.url, email, "not the password")
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    assert "do not match" in alert.inner_text()
    assert page.get_by_label("Email or card number").input_value() == email
    assert page.get_by_label("Password").input_value() == ""


@pytest.mark.parametrize("locale", LOCALES)
def test_login_page_in_every_language(live_server, page, artifacts, locale):
    response = page.goto(f"{live_server.url}/login?ui_locales={locale}")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == locale
    heading, button = LOGIN_WORDS[locale]
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.get_by_role("button", name=button, exact=True).is_visible()
    page.screenshot(path=str(artifacts / f"login-{locale}.png"), full_page=True)
