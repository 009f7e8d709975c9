"""The security page in a real browser: two devices, one ends the other; codes kept as a file."""

from __future__ import annotations

import re
from pathlib import Path

from tests.factories import make_member
from tests.login_flow import totp_code


def _log_in(page, url: str, email: str, password: str, code: str) -> None:
    page.goto(f"{url}/login?next=/account/security")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Authentication code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/account/security$"))


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return errors


def test_one_device_ends_the_other_and_keeps_new_codes(live_server, browser, artifacts):
    with live_server.app_context():
        member, password, key = make_member()
        email = member.email
    laptop = browser.new_context(locale="en-GB", accept_downloads=True)
    phone = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        first, second = laptop.new_page(), phone.new_page()
        for p in (first, second):
            p.set_default_timeout(10_000)
        errors = _csp_errors(first)
        _log_in(first, live_server.url, email, password, totp_code(key))
        # A time step is accepted once per member: the second device uses the next one.
        _log_in(second, live_server.url, email, password, totp_code(key, steps_ahead=1))

        first.reload()
        assert first.locator("h1").inner_text() == "Security"
        sessions = first.locator("li.session")
        assert sessions.count() == 2
        assert "this device" in sessions.first.inner_text()
        assert "127.0.0.x" in sessions.first.inner_text()
        first.screenshot(path=str(artifacts / "security-sessions.png"), full_page=True)

        other = sessions.nth(1)
        other.get_by_role("button", name="End session").click()
        first.wait_for_load_state()
        assert "The session is ended." in first.get_by_role("status").inner_text()
        assert first.locator("li.session").count() == 1

        # The other device is logged out at its next request.
        second.goto(f"{live_server.url}/account")
        assert "/login" in second.url
        assert second.locator("h1").inner_text() == "Log in with Miles & More"

        first.get_by_role("button", name="Create new recovery codes").click()
        first.wait_for_load_state()
        codes = [c.strip() for c in first.locator(".recovery-code").all_inner_texts()]
        assert len(codes) == 10
        # The script shows what needs it; the form needs nothing.
        assert first.get_by_role("button", name="Print").is_visible()
        laptop.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        first.get_by_role("button", name="Copy codes").click()
        first.get_by_text("The codes are copied.").wait_for()
        assert first.evaluate("navigator.clipboard.readText()").split() == codes
        with first.expect_download() as download_info:
            first.get_by_role("button", name="Download as text").click()
        download = download_info.value
        assert download.suggested_filename == "miles-and-more-recovery-codes.txt"
        text = Path(download.path()).read_text(encoding="utf-8")
        assert [line for line in text.splitlines() if line in codes] == codes

        # Printing shows the codes and nothing else of the page.
        first.emulate_media(media="print")
        assert first.locator(".recovery-code").first.is_visible()
        assert not first.locator("h1").is_visible()
        assert not first.get_by_role("button", name="Change password").is_visible()
        first.screenshot(path=str(artifacts / "security-codes-print.png"), full_page=True)
        first.emulate_media(media="screen")
        assert errors == []
    finally:
        laptop.close()
        phone.close()
