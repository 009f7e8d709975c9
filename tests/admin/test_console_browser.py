"""In a real browser: an operator logs in with two factors, previews and approves a client
waiting in /admin, and a member who is no developer of the partner can then log in to it."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest

from idp.services import approval
from idp.services.staff import add_staff
from tests.e2e.conftest import _transaction, live_server  # noqa: F401  (the live server)
from tests.factories import make_client, make_member, make_partner

pytestmark = pytest.mark.browser

REDIRECT_URI = "https://partner.example/callback"


def log_in(page, email: str, password: str, key: str) -> None:
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify*")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()


def test_an_operator_approves_a_client_and_a_member_logs_in(live_server, browser, artifacts):  # noqa: F811
    with live_server.app_context():
        operator, operator_password, operator_key = make_member()
        add_staff(operator.id)
        member, member_password, member_key = make_member()
        client, _secret = make_client(
            make_partner("Tulip Hotels", "partner_company"),
            client_name="Tulip Hotels Booking",
            redirect_uris=[REDIRECT_URI],
            scope="openid profile email",
            purposes=["registration"],
            approved=False,
        )
        approval.submit_for_approval(client.client_id)
        client_id = client.client_id
        operator_email, member_email = operator.email, member.email

    staff = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    staff.set_default_timeout(10_000)
    page = staff.new_page()
    page.goto(f"{live_server.url}/admin")
    page.wait_for_url("**/login?*")
    log_in(page, operator_email, operator_password, operator_key)
    page.wait_for_url("**/admin")
    assert page.get_by_role("heading", level=1).inner_text() == "Administration"
    item = page.get_by_role("region", name="Tulip Hotels Booking")
    assert "Tulip Hotels" in item.inner_text()

    item.get_by_role("link", name="Preview the consent screen").click()
    page.get_by_role("navigation", name="Language of the preview").get_by_role(
        "link", name="Deutsch"
    ).click()
    assert "ist allein dafür verantwortlich" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "admin-consent-preview-de.png"), full_page=True)
    page.get_by_role("link", name="Back to the approvals").click()

    page.screenshot(path=str(artifacts / "admin-approval-queue.png"), full_page=True)
    page.get_by_role("region", name="Tulip Hotels Booking").get_by_role(
        "button", name="Approve"
    ).click()
    page.wait_for_url("**/admin")
    assert "is approved" in page.get_by_role("status").inner_text()
    assert page.get_by_role("region", name="Tulip Hotels Booking").count() == 0
    staff.close()

    # A member, no developer of Tulip Hotels, logs in to the client now.
    visitor = browser.new_context(locale="en-GB")
    visitor.set_default_timeout(10_000)
    visitor.route("https://partner.example/**", lambda route: route.fulfill(body="partner site"))
    page = visitor.new_page()
    state = secrets.token_hex(4)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email",
            "state": state,
        }
    )
    page.goto(f"{live_server.url}/oauth/authorize?{query}")
    log_in(page, member_email, member_password, member_key)
    page.wait_for_url("**/consent/*")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("https://partner.example/callback*")
    params = parse_qs(urlsplit(page.url).query)
    assert params["state"] == [state] and params["code"]
    visitor.close()
