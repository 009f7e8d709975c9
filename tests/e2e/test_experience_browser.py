"""A member on a 390 px wide phone, in Polish: the demo partner, the login naming the
partner, the consent screen, Deny told in Polish, then Allow and the partner's page.

On every page nothing is wider than the screen (no sideways scrolling) and no
checkbox is squashed below 16 px. Screenshots of each page go to a temporary
folder, to be looked at.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest

WIDTH = 390


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="pl-PL", viewport={"width": WIDTH, "height": 844}, device_scale_factor=1
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def check_fits(page, shots, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name}: the page is {width} px wide"
    boxes = page.eval_on_selector_all(
        "input[type=checkbox]", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert all(w >= 16 for w in boxes), f"{name}: checkboxes {boxes}"


def test_phone_journey_in_polish(live_server, partner_site, phone, tmp_path):
    partner_url, seed = partner_site
    page = phone
    page.goto(partner_url)
    assert page.locator("html").get_attribute("lang") == "pl"
    check_fits(page, tmp_path, "1-partner")
    page.get_by_role("button", name="Zaloguj się przez Miles & More").click()

    page.wait_for_url(f"{live_server.url}/login**")
    assert page.locator("html").get_attribute("lang") == "pl"
    assert "Demo Partner Shop" in page.locator(".requester").inner_text()
    check_fits(page, tmp_path, "2-login")
    page.get_by_label("E-mail lub numer karty").fill(seed.card_number)
    page.get_by_label("Hasło").fill(seed.password)
    page.get_by_role("button", name="Zaloguj się", exact=True).click()

    page.wait_for_url("**/login/verify")
    assert page.locator("html").get_attribute("lang") == "pl"
    check_fits(page, tmp_path, "3-verify")
    page.get_by_label("Kod uwierzytelniający").fill(pyotp.TOTP(seed.totp_secret).now())
    page.get_by_role("button", name="Potwierdź").click()

    page.wait_for_url("**/consent/**")
    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.get_by_role("heading", level=1).inner_text() == "Demo Partner Shop"
    assert "(opcjonalnie)" in page.locator("main").inner_text()
    check_fits(page, tmp_path, "4-consent")
    page.get_by_role("button", name="Odmów").click()

    page.wait_for_url(f"{partner_url}/**")
    alert = page.get_by_role("alert").inner_text()
    assert "Nie udostępniasz nam swoich danych" in alert
    check_fits(page, tmp_path, "5-partner-denied")

    # Once more, and Allow: the provider session is still there, so straight to consent.
    page.get_by_role("button", name="Zaloguj się przez Miles & More").click()
    page.wait_for_url("**/consent/**")
    page.get_by_role("button", name="Zezwól").click()
    page.wait_for_url(f"{partner_url}/")
    # From now on the partner follows the member's own language (the locale claim: en).
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Erika"
    assert seed.email in page.locator("table").inner_text()
    check_fits(page, tmp_path, "6-partner-signed-in")

    page.goto(f"{live_server.url}/account")
    assert page.locator("nav.account-nav [aria-current=page]").inner_text() == "Overview"
    check_fits(page, tmp_path, "7-account")

    # Revoke access at the provider: the partner hears of it (back-channel logout) and
    # shows "Sign in"; a new login there then signs the member in again.
    page.goto(f"{live_server.url}/account/apps")
    check_fits(page, tmp_path, "8-connected-apps")
    page.get_by_role("button", name="Revoke access").click()
    page.wait_for_url(re.compile(r".*/account/apps/[^/]+/revoke\??$"))
    check_fits(page, tmp_path, "9-revoke-confirm")
    page.get_by_role("button", name="Revoke access").click()
    page.wait_for_url("**/account/apps")
    login_button = page.get_by_role("button", name="Log in with Miles & More")
    for _attempt in range(40):
        page.goto(partner_url)
        if login_button.count():
            break
        time.sleep(0.25)
    assert login_button.count(), "the partner never heard of the revocation"
    login_button.click()
    page.wait_for_url("**/consent/**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{partner_url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Erika"
