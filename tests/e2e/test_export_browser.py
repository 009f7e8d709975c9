"""Your data in a real browser: log in, open the page, download the export and read it."""

from __future__ import annotations

import json

import pyotp

from tests.factories import issue_token, make_client, make_member, make_partner

KEYS = {
    "member", "card_numbers", "consents", "consent_records", "partner_access",
    "linked_profiles", "sessions", "audit_events",
}  # fmt: skip


def test_member_downloads_the_export_with_what_a_partner_read(live_server, page, artifacts):
    with live_server.app_context():
        member, password, key = make_member(given_name="Ewa", family_name="Nowak")
        email = member.email
        client, _ = make_client(make_partner("Sky Hotels", "partner_company"), scope="openid email")
        token = issue_token(member, client).access_token
    reads = live_server.app.test_client()
    answer = reads.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200

    page.goto(f"{live_server.url}/login?next=/account/export")
    page.get_by_label("Email or card number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/verify")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account/export")
    assert page.get_by_role("heading", level=1).inner_text() == "Your data"
    page.screenshot(path=str(artifacts / "account-export.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download my data").click()
    download = info.value
    assert download.suggested_filename.endswith(".json")
    document = json.loads(open(download.path(), encoding="utf-8").read())
    assert KEYS <= set(document)
    assert document["member"]["email"] == email
    assert document["member"]["family_name"] == "Nowak"
    assert [(a["partner"], a["category"], a["count"]) for a in document["partner_access"]] == [
        ("Sky Hotels", "email", 1)
    ]
    assert "login.succeeded" in [e["event"] for e in document["audit_events"]]
    assert len(document["sessions"]) == 1

    # The same read on Connected apps, under the partner.
    page.goto(f"{live_server.url}/account/apps")
    section = page.locator("section.connected-app", has_text="Sky Hotels")
    assert section.get_by_role("heading", name="What it read").is_visible()
    row = section.locator("table.partner-access tbody tr")
    assert row.count() == 1
    assert row.locator("td").all_inner_texts()[0] == "Your email address"
    assert row.locator("td").all_inner_texts()[2] == "1"
    page.screenshot(path=str(artifacts / "account-apps-partner-access.png"), full_page=True)
