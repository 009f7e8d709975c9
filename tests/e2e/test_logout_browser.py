"""RP-initiated logout pages in a real browser: confirmation, logged-out page, redirect."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import session

from idp.services import sso
from tests.factories import make_client, make_member


@pytest.fixture
def logged_in(live_server, context):
    """A member with a live SSO session cookie in the browser, and a partner client."""
    app = live_server.app
    with live_server.app_context():
        member = make_member()[0]
        client, _ = make_client(
            client_name="Demo Shop",
            post_logout_redirect_uris=[f"{live_server.url}/partner/signed-out"],
        )
        with app.test_request_context():
            started = sso.start_session(member, ["pwd", "otp"])
            sid, token = started.id, session[sso.TOKEN_KEY]
        cookie = app.session_interface.get_signing_serializer(app).dumps({sso.TOKEN_KEY: token})
        client_id, name = client.client_id, member.name
    context.add_cookies([{"name": "mam_session", "value": cookie, "url": live_server.url}])
    return {"sid": sid, "client_id": client_id, "name": name}


def csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    return errors


def test_member_confirms_and_sees_the_logged_out_page(live_server, page, logged_in, artifacts):
    errors = csp_errors(page)
    page.goto(f"{live_server.url}/oauth/logout")
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text() == "Log out of Miles & More?"
    assert logged_in["name"] in page.content()
    page.screenshot(path=str(artifacts / "logout-confirm.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You are logged out"
    assert page.get_by_role("status").is_visible()
    page.screenshot(path=str(artifacts / "logout-done.png"), full_page=True)

    # The session is over: asking again shows no confirmation.
    page.goto(f"{live_server.url}/oauth/logout")
    assert page.locator("h1").inner_text() == "You are logged out"
    assert errors == []


def test_partner_logout_returns_to_the_partner_with_state(live_server, page, logged_in):
    target = f"{live_server.url}/partner/signed-out"
    query = urlencode(
        {
            "client_id": logged_in["client_id"],
            "post_logout_redirect_uri": target,
            "state": "back to shop",
            "ui_locales": "de",
        }
    )
    page.goto(f"{live_server.url}/oauth/logout?{query}")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_role("button").first.click()
    page.wait_for_url(f"{target}?*")
    url = urlsplit(page.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == target
    assert parse_qs(url.query) == {"state": ["back to shop"]}


def test_an_unregistered_return_address_shows_an_error_page(live_server, page, logged_in):
    query = urlencode(
        {"client_id": logged_in["client_id"], "post_logout_redirect_uri": "https://evil.example/"}
    )
    response = page.goto(f"{live_server.url}/oauth/logout?{query}")
    assert response.status == 400
    assert page.url.startswith(live_server.url)
    assert page.get_by_role("alert").is_visible()
    assert page.locator("h1").count() == 1
