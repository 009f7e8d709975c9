"""A passkey in a real browser: Chromium's virtual authenticator (DevTools ``WebAuthn``
domain) adds one on the security page, and the member logs in with password + passkey.

WebAuthn wants a secure context and an RP ID that is a domain, never an IP
address: this module's server listens on the loopback address but its issuer,
and so the browser's origin, is ``http://localhost:<port>`` (a potentially
trustworthy origin).
"""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Passkey, SSOSession
from tests.conftest import make_test_app, migrated_sqlite
from tests.e2e.conftest import free_port, serve
from tests.factories import make_member

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory):
    port = free_port()
    tmp = tmp_path_factory.mktemp("passkey-live")
    app = make_test_app(
        migrated_sqlite(tmp / "live.sqlite3"), tmp / "instance", issuer=f"http://localhost:{port}"
    )
    server, thread = serve(app, port)
    yield app, f"http://localhost:{port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _password_step(page, url, email, password):
    page.goto(f"{url}/login")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify")


def test_a_member_adds_a_passkey_and_logs_in_with_it(localhost_server, context, artifacts):
    app, url = localhost_server
    with app.app_context():
        member, password, key = make_member(given_name="Ewa", family_name="Lis")
        email, member_id = member.email, member.id
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    _password_step(page, url, email, password)
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account")
    page.goto(f"{url}/account/security")
    page.get_by_role("button", name="Add passkey").click()
    page.wait_for_url("**/account/security")
    status = page.get_by_role("status")
    status.wait_for()
    assert "is added" in status.inner_text()
    assert page.get_by_role("heading", name="Passkey 1").is_visible()
    assert page.get_by_text("Built into a device").is_visible()
    assert page.get_by_label("Passkey name").input_value() == "Passkey 1"
    page.screenshot(path=str(artifacts / "security-passkeys.png"), full_page=True)

    page.goto(f"{url}/logout")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    _password_step(page, url, email, password)
    page.screenshot(path=str(artifacts / "login-passkey.png"), full_page=True)
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Ewa Lis"

    with app.app_context():
        session = db.session.scalar(
            select(SSOSession).where(
                SSOSession.member_id == member_id, SSOSession.ended_at.is_(None)
            )
        )
        assert session.amr == ["pwd", "hwk", "mfa"]
        (passkey,) = db.session.scalars(select(Passkey).where(Passkey.member_id == member_id))
        assert passkey.attachment == "platform" and passkey.last_used_at is not None
    assert not [e for e in errors if "Content Security Policy" in e], errors
