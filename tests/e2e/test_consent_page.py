"""The consent screen in a real browser: labels, defaults, CSP, and Allow back to the partner."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from tests.e2e.signed_in import REDIRECT_URI, signed_in


def logged_in_browser(live_server, context) -> tuple[str, str]:
    """A member logged in through the session cookie; returns (client id, partner name)."""
    done = signed_in(
        live_server,
        context,
        scope="openid email phone card_number miles offline_access",
        purposes=["registration", "miles"],
    )
    return done.client_id, done.partner_name


def authorize_url(live_server, client_id, scope):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "browser",
        }
    )
    return f"{live_server.url}/oauth/authorize?{query}"


def test_consent_screen_allow(live_server, context, artifacts):
    client_id, partner_name = logged_in_browser(live_server, context)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(
        authorize_url(live_server, client_id, "openid email phone card_number offline_access")
    )

    assert urlsplit(page.url).path.startswith("/consent/")
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text() == partner_name
    assert page.get_by_label("Your email address").is_checked()
    assert page.get_by_label("Your phone number").is_checked()
    assert not page.get_by_label("Allow access without time limit").is_checked()
    assert page.get_by_text("Your Miles & More card number").is_visible()
    assert page.get_by_role("button", name="Allow").is_visible()
    assert page.get_by_role("button", name="Deny").is_visible()
    page.screenshot(path=str(artifacts / "consent-page.png"), full_page=True)

    page.get_by_label("Your phone number").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["state"] == "browser"
    assert params["iss"] == live_server.url
    assert params["code"]
    assert not [e for e in errors if "Content Security Policy" in e]


def test_consent_screen_deny(live_server, context):
    client_id, _ = logged_in_browser(live_server, context)
    page = context.new_page()
    page.goto(authorize_url(live_server, client_id, "openid email"))
    assert page.get_by_label("Allow access without time limit").count() == 0
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{REDIRECT_URI}?*")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["error"] == "access_denied" and params["state"] == "browser"
