"""The demo in a browser: ``mam-idp demo`` in a subprocess, chromium through both sites.

The subprocess is ``tests.live.server.LiveDemo``; the browser is the one every
browser test shares.
"""

from __future__ import annotations

import pytest

from tests.live.server import SCRIPT, live_demo
from tests.login_flow import totp_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed"),
]


def test_the_printed_member_logs_in_at_the_demo_partner_in_a_browser(tmp_path, page, artifacts):
    with live_demo(tmp_path) as demo:
        printed = demo.credentials()
        page.goto(demo.partner_url + "/")
        page.get_by_role("button", name="Log in with Miles & More").click()

        page.wait_for_url(f"{demo.url}/login**")
        page.get_by_label("Email or card number").fill(printed["Email"])
        page.get_by_label("Password").fill(printed["Password"])
        page.get_by_role("button", name="Log in", exact=True).click()

        page.wait_for_url("**/login/verify")
        page.get_by_label("Authentication code").fill(totp_code(printed["TOTP key"]))
        page.get_by_role("button", name="Verify").click()

        page.wait_for_url("**/consent/**")
        assert page.get_by_role("heading", level=1).inner_text() == "Demo Partner Shop"
        page.get_by_role("button", name="Allow").click()

        page.wait_for_url(demo.partner_url + "/")
        assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Erika"
        assert page.locator("#miles-balance").inner_text() == "48,250 miles"
        page.screenshot(path=str(artifacts / "live-demo-signed-in.png"), full_page=True)
    assert " 500 " not in demo.output() and "Traceback" not in demo.output()
