"""Linking in a real browser: the member logs in at Miles & More, then at the airline's ID
service (a second instance of the provider in a process of its own), comes back linked,
logs in with the airline's profile and the Miles & More second factor, and unlinks."""

from __future__ import annotations

import time

import pyotp
import pytest

from idp.extensions import db
from idp.services import linked_profiles
from tests.conftest import make_test_app, migrated_sqlite
from tests.e2e.conftest import serve
from tests.factories import make_member
from tests.live.server import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider(airline, tmp_path_factory):
    """This provider on a free port, with the airline configured as ``IDP_LHG_PROVIDERS``."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    tmp = tmp_path_factory.mktemp("provider")
    app = make_test_app(
        migrated_sqlite(tmp / "provider.sqlite3"),
        tmp / "instance",
        issuer=issuer,
        lhg_providers=(airline.provider_entry(issuer),),
    )
    server, thread = serve(app, port)
    yield app, issuer
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _log_in(page, email: str, password: str, code: str) -> None:
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/login/verify")
    page.get_by_label("Authentication code").fill(code)
    page.get_by_role("button", name="Verify").click()


def test_a_member_links_logs_in_with_and_unlinks_a_lufthansa_profile(
    provider, airline, page, artifacts, unique
):
    app, issuer = provider
    with app.app_context():
        member, password, key = make_member(given_name="Erika", family_name="Mustermann")
        member_id, email = member.id, member.email
    profile = airline.new_profile(unique("erika") + "@example.com")

    page.goto(f"{issuer}/login?next=/account/linked-profiles")
    _log_in(page, email, password, pyotp.TOTP(key).now())
    page.wait_for_url("**/account/linked-profiles")
    assert page.get_by_role("heading", level=1).inner_text() == "Linked profiles"
    assert page.get_by_role("heading", level=2, name="Lufthansa").is_visible()
    page.screenshot(path=str(artifacts / "linked-profiles.png"), full_page=True)

    # At the airline: its own login with both factors, and its consent.
    page.get_by_role("button", name="Link profile").click()
    page.wait_for_url(f"{airline.url}/login**")
    _log_in(page, profile["email"], profile["password"], pyotp.TOTP(profile["key"]).now())
    page.wait_for_url(f"{airline.url}/consent/**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{issuer}/account/linked-profiles")
    assert "Your Lufthansa profile is linked." in page.get_by_role("status").inner_text()
    with app.app_context():
        [linked] = linked_profiles.profiles_of(member_id)
    assert page.locator(".profile-id").inner_text() == linked.subject
    page.screenshot(path=str(artifacts / "linked-profiles-linked.png"), full_page=True)

    # Logged out, back in with the airline's profile: the second factor is still asked.
    page.goto(f"{issuer}/logout")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.screenshot(path=str(artifacts / "login-with-lufthansa.png"), full_page=True)
    page.get_by_role("button", name="Log in with Lufthansa").click()
    page.wait_for_url(f"{issuer}/login/verify")
    assert page.get_by_role("heading", level=1).inner_text() == "Two-step verification"
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{issuer}/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Erika Mustermann"

    page.goto(f"{issuer}/account/linked-profiles")
    page.get_by_role("button", name="Unlink").click()
    page.wait_for_url(f"{issuer}/account/linked-profiles")
    assert "profile is unlinked" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Link profile").is_visible()
    with app.app_context():
        assert linked_profiles.profiles_of(member_id) == []
