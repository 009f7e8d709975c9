"""Members without a second factor set up TOTP through the mailed link; ten recovery codes once."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select, text

from idp.extensions import db
from idp.models import AuditEvent, Credential, RecoveryCode, SSOSession
from tests.factories import make_member
from tests.login_flow import alert_text, enter_password, h1, post_form, start_enrolment


def _key_on_page(html: str) -> str:
    match = re.search(r'<p class="secret secret--grouped" id="totp-key">([A-Z2-7 ]+)</p>', html)
    assert match, "the enrolment page shows the key as text"
    return match.group(1).replace(" ", "")


def _codes_on_page(html: str) -> list[str]:
    return re.findall(r'<code class="recovery-code">([A-Z2-7-]+)</code>', html)


def test_member_without_totp_is_taken_to_enrolment(client, app, app_ctx):
    member, password, _none = make_member(totp=False)
    start_enrolment(client, app, member.email, password, next_path="/account/security")
    # The second step itself also sends such a member to enrolment.
    assert client.get("/login/verify").headers["Location"] == "/login/enrol"

    page = client.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "Set up two-step verification"
    assert '<label for="code">Authentication code</label>' in html
    assert re.search(r"<button[^>]*>Verify</button>", html)
    assert '<svg width="' in html and 'class="qr-code"' in html
    key = _key_on_page(html)
    assert len(key) == 32
    # A reload shows the same key: a member who scanned it already is not confused.
    assert _key_on_page(client.get("/login/enrol").get_data(as_text=True)) == key
    # Stored encrypted, never as the plain key.
    raw = db.session.execute(
        text("SELECT totp_secret FROM member_credentials WHERE member_id = :id"),
        {"id": member.id},
    ).scalar_one()
    assert key not in raw


def test_enrolment_confirms_with_a_code_then_shows_recovery_codes_once(client, app, app_ctx):
    member, password, _none = make_member(totp=False)
    start_enrolment(client, app, member.email, password, next_path="/account/security")
    key = _key_on_page(client.get("/login/enrol").get_data(as_text=True))

    wrong = post_form(client, "/login/enrol", {"code": "000000"})
    if pyotp.TOTP(key).now() != "000000":
        assert wrong.status_code == 400
        assert "code is not right" in alert_text(wrong.get_data(as_text=True))
        assert _key_on_page(wrong.get_data(as_text=True)) == key

    response = post_form(client, "/login/enrol", {"code": pyotp.TOTP(key).now()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert h1(html) == "Your recovery codes"
    assert 'role="status"' in html
    codes = _codes_on_page(html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", c) for c in codes)
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)

    [sso] = db.session.scalars(select(SSOSession).where(SSOSession.member_id == member.id)).all()
    assert sso.amr == ["pwd", "otp", "mfa"]
    credential = db.session.get(Credential, member.id)
    db.session.refresh(credential)
    assert credential.has_totp
    assert {e.event for e in db.session.scalars(select(AuditEvent))} >= {
        "totp.enrolled",
        "recovery_codes.generated",
        "login.succeeded",
    }

    # Continue takes the member where the login was going; the codes are not shown again.
    onwards = client.get("/login/continue")
    assert onwards.headers["Location"] == "/account/security"
    again = client.get("/login/enrol")
    assert again.status_code == 302 and again.headers["Location"] == "/login/continue"


def test_enrolled_member_cannot_enrol_again_at_login(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    assert client.get("/login/enrol").headers["Location"] == "/login/verify"


def test_failed_enrolment_codes_are_audited_but_do_not_lock(client, app, app_ctx):
    member, password, _none = make_member(totp=False)
    start_enrolment(client, app, member.email, password)
    key = _key_on_page(client.get("/login/enrol").get_data(as_text=True))
    wrong = "000000" if pyotp.TOTP(key).now() != "000000" else "111111"
    for _attempt in range(6):
        assert post_form(client, "/login/enrol", {"code": wrong}).status_code == 400
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "totp.enrolment_failed")
    ).all()
    assert len(events) == 6
    assert post_form(client, "/login/enrol", {"code": pyotp.TOTP(key).now()}).status_code == 200
