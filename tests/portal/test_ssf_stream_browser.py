"""The client page's Shared Signals section in a browser, for a stream the partner configured."""

from __future__ import annotations

import pytest
import requests

from tests.portal.test_portal_browser import basic, developer_with_client, log_in

pytestmark = pytest.mark.browser

TOKEN_REVOKED = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"


def test_the_client_page_shows_the_stream(live_server, browser, artifacts):
    (dev_id, dev_email, dev_password, dev_key), client_id, secret = developer_with_client(
        live_server
    )
    token = requests.post(
        f"{live_server.url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "ssf.manage"},
        headers=basic(client_id, secret),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    configuration = requests.get(f"{live_server.url}/.well-known/ssf-configuration", timeout=10)
    created = requests.post(
        configuration.json()["configuration_endpoint"],
        json={"events_requested": [TOKEN_REVOKED]},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/developers/clients/{client_id}")
    log_in(page, dev_email, dev_password, dev_key)
    page.wait_for_url(f"**/developers/clients/{client_id}")
    section = page.get_by_role("region", name="Shared Signals stream")
    section.scroll_into_view_if_needed()
    assert section.is_visible()
    text = section.inner_text()
    assert "Poll (RFC 8936)" in text and "Enabled" in text and TOKEN_REVOKED in text
    section.screenshot(path=str(artifacts / "portal-ssf-stream.png"))
    context.close()
