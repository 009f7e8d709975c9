"""A member edits the profile in a real browser and changes the email address by the link."""

from __future__ import annotations

import re

import pyotp

from idp.extensions import db
from idp.models import Member
from idp.services.mail import send_pending
from tests.factories import make_member
from tests.smtp_sink import running_smtp_sink

SENDER = "no-reply@login.miles-and-more.example"


def test_member_edits_the_profile_and_confirms_a_new_email_address(live_server, page, artifacts):
    with live_server.app_context():
        member, password, key = make_member(given_name="Joanna", family_name="Nowak")
        member_id, old_email = member.id, member.email
    new_email = f"joanna-{member_id[:8]}@example.org"

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email or card number").fill(old_email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account")

    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Profile", exact=True).click()
    page.wait_for_url("**/account/profile")
    assert page.get_by_role("heading", level=1).inner_text() == "Your profile"
    page.get_by_label("Academic title").fill("Dr.")
    page.get_by_label("Street and house number").fill("Rynek Główny 1")
    page.get_by_label("Postal code").fill("31-042")
    page.get_by_label("City").fill("Kraków")
    page.get_by_label("Country").select_option("PL")
    page.get_by_label("Home airport").fill("krk")
    page.get_by_label("Seat preference").select_option("window")
    page.get_by_label("Meal preference").select_option("GFML")
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("status").inner_text() == "Your profile is saved."
    assert page.get_by_label("Home airport").input_value() == "KRK"
    assert page.get_by_label("Country").input_value() == "PL"

    page.get_by_label("New email address").fill(new_email)
    page.get_by_role("button", name="Change email address").click()
    assert "Check your inbox at " + new_email in page.get_by_role("status").inner_text()
    assert page.locator(".current-email").inner_text().startswith(old_email)
    page.screenshot(path=str(artifacts / "profile-email-pending.png"), full_page=True)

    with running_smtp_sink() as sink, live_server.app_context():
        send_pending(sink.url, SENDER)
        (message,) = sink.wait_for(1)
        db.session.remove()
    assert message["To"] == new_email
    link = re.search(r"http://\S+/account/profile/email/confirm\?token=\S+", message.get_content())
    page.goto(link.group(0))
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm your new email address"
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_url("**/account/profile")
    assert page.get_by_role("status").inner_text() == f"Your email address is now {new_email}."
    assert page.locator(".current-email").inner_text().startswith(new_email)
    page.screenshot(path=str(artifacts / "profile-email-changed.png"), full_page=True)

    with live_server.app_context():
        stored = db.session.get(Member, member_id)
        assert stored.email == new_email and stored.email_verified is True
        assert stored.travel_preferences == {
            "home_airport": "KRK",
            "seat": "window",
            "meal": "GFML",
        }
        db.session.remove()
