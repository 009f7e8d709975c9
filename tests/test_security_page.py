"""``/account/security``: password change, authenticator replacement, recovery codes, sessions."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

import pyotp
import pytest
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import (
    AuditEvent,
    Credential,
    Lockout,
    OutgoingMail,
    PartnerNotification,
    RecoveryCode,
    SSOSession,
)
from idp.models.types import utcnow
from idp.services import authentication, lockout
from idp.services.session_details import address_prefix, device_of, shown_prefix
from tests.conftest import make_test_app
from tests.factories import issue_token, make_client, make_member
from tests.factories import log_in as start_session
from tests.login_flow import (
    alert_text,
    csrf_token,
    enter_password,
    h1,
    log_in,
    post_form,
    start_enrolment,
    totp_code,
)

PAGE = "/account/security"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a much newer password"


def _events(member_id: str, name: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.member_id == member_id, AuditEvent.event == name)
        )
    )


def _mails(member, purpose: str) -> list[OutgoingMail]:
    rows = db.session.scalars(select(OutgoingMail).where(OutgoingMail.purpose == purpose))
    return [m for m in rows if m.recipient == member.email]


def _live(sid: str) -> bool:
    return db.session.get(SSOSession, sid).ended_at is None


def _alert(html: str) -> str:
    """The whole ``role="alert"`` element, its list of field errors included."""
    found = re.findall(r'role="alert"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found)


def _status(html: str) -> str:
    found = re.findall(r'role="status"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found)


def _logged_in(browser) -> bool:
    return browser.get("/account").status_code == 200


def _member_on_two_browsers(app, client):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    other = app.test_client()
    other_sid = start_session(other, member)
    return member, password, key, other, other_sid


# -- the page ----------------------------------------------------------------------


def test_page_has_the_interface_words_and_one_section_per_topic(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    html = client.get(PAGE).get_data(as_text=True)
    assert h1(html) == "Security"
    for label, name in (("Current password", "current_password"), ("New password", "new_password")):
        assert re.search(rf'<label for="{name}">{label}</label>', html)
        assert f'id="{name}"' in html
    assert re.search(r"<button[^>]*>Change password</button>", html)
    assert html.count('class="security-section"') == 4
    for heading in ("Password", "Two-step verification", "Recovery codes", "Active sessions"):
        assert f">{heading}</h2>" in html
    assert "this device" in html
    # Only one session: nothing to end but this one, which is ended by logging out.
    assert "End session" not in html and "End all other sessions" not in html
    assert 'name="csrf_token"' in html


def test_every_route_needs_a_login(client):
    assert client.get(PAGE).headers["Location"] == "/login?next=%2Faccount%2Fsecurity"
    assert client.get(PAGE + "/authenticator").headers["Location"].startswith("/login?next=")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for path in (
        "/password",
        "/authenticator",
        "/recovery-codes",
        "/recovery-codes/file",
        "/sessions/abc/end",
        "/sessions/end-others",
    ):
        response = client.post(PAGE + path, data={"csrf_token": token})
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_changes_need_a_recent_login(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    db.session.execute(
        update(SSOSession)
        .where(SSOSession.member_id == member.id)
        .values(auth_time=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    response = client.post(
        PAGE + "/password",
        data={"csrf_token": token, "current_password": password, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 302 and "prompt=login" in response.headers["Location"]
    credential = db.session.get(Credential, member.id)
    assert authentication.verify_password(credential.password_hash, password)
    response = client.post(PAGE + "/sessions/end-others", data={"csrf_token": token})
    assert "prompt=login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/password",
        "/authenticator",
        "/recovery-codes",
        "/recovery-codes/file",
        "/sessions/SID/end",
        "/sessions/end-others",
    ],
)
def test_every_form_refuses_a_missing_csrf_token(app, client, app_ctx, path):
    member, password, key, other, other_sid = _member_on_two_browsers(app, client)
    codes_before = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.member_id == member.id)
    )
    hash_before = db.session.get(Credential, member.id).password_hash
    response = client.post(
        PAGE + path.replace("SID", other_sid),
        data={"current_password": password, "new_password": NEW_PASSWORD, "code": "123456"},
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert _live(other_sid)
    assert db.session.get(Credential, member.id).password_hash == hash_before
    assert (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(RecoveryCode.member_id == member.id)
        )
        == codes_before
    )


# -- password ----------------------------------------------------------------------


def test_password_change_keeps_this_session_and_ends_the_others(app, client, app_ctx):
    member, password, key, other, other_sid = _member_on_two_browsers(app, client)
    partner_client, _secret = make_client(backchannel_logout_uri="https://rp.example/logout")
    issue_token(member, partner_client, "openid email", sid=other_sid)

    response = post_form(
        client,
        PAGE + "/password",
        {"current_password": password, "new_password": NEW_PASSWORD},
        page=PAGE,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your password is changed." in _status(html)
    assert "1 other session was logged out." in _status(html)
    assert 'role="alert"' not in html

    assert _logged_in(client)
    assert not _logged_in(other)
    db.session.expire_all()
    assert not _live(other_sid)
    assert len(_events(member.id, "password.changed")) == 1
    (notice,) = _mails(member, "security_notice.password")
    assert "password" in notice.subject and "was changed" in notice.body
    # The partner the other session logged into is told (OIDC Back-Channel Logout).
    queued = db.session.scalars(
        select(PartnerNotification).where(PartnerNotification.client_id == partner_client.id)
    ).all()
    assert [n.kind for n in queued] == ["backchannel_logout"]

    post_form(client, "/logout", {})
    assert enter_password(client, member.email, password).status_code == 400
    assert enter_password(client, member.email, NEW_PASSWORD).status_code == 302


def test_wrong_current_password_is_refused_and_counted(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    response = post_form(
        client,
        PAGE + "/password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
        page=PAGE,
    )
    assert response.status_code == 400
    assert "The current password is not right." in alert_text(response.get_data(as_text=True))
    credential = db.session.get(Credential, member.id)
    assert authentication.verify_password(credential.password_hash, password)
    row = db.session.get(Lockout, lockout.member_key(member.id))
    assert row is not None and row.failures == 1
    assert len(_events(member.id, "password.change_failed")) == 1
    assert not _mails(member, "security_notice.password")


def test_wrong_current_passwords_lock_the_account(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    statuses = []
    for _attempt in range(5):
        response = post_form(
            client,
            PAGE + "/password",
            {"current_password": "not my password", "new_password": NEW_PASSWORD},
            page=PAGE,
        )
        statuses.append(response.status_code)
    assert statuses == [400] * 4 + [429]
    assert "Too many failed attempts" in alert_text(response.get_data(as_text=True))
    assert int(response.headers["Retry-After"]) > 0
    # Locked: even the right password is refused now, here and at the login.
    response = post_form(
        client,
        PAGE + "/password",
        {"current_password": password, "new_password": NEW_PASSWORD},
        page=PAGE,
    )
    assert response.status_code == 429
    credential = db.session.get(Credential, member.id)
    assert authentication.verify_password(credential.password_hash, password)
    post_form(client, "/logout", {})
    assert enter_password(client, member.email, password).status_code == 429


def test_password_attempts_share_the_logins_address_budget(client, app, app_ctx, monkeypatch):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], login_rate_limit="2/minute"))
    client.environ_base["REMOTE_ADDR"] = "198.51.100.61"
    statuses = []
    for _attempt in range(3):
        response = post_form(
            client,
            PAGE + "/password",
            {"current_password": "not my password", "new_password": NEW_PASSWORD},
            page=PAGE,
        )
        statuses.append(response.status_code)
    assert statuses == [400, 400, 429]
    assert 'role="alert"' in response.get_data(as_text=True)
    row = db.session.get(Lockout, lockout.member_key(member.id))
    assert row.failures == 2  # the refused attempt was not checked


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current_password": "", "new_password": NEW_PASSWORD}, "Enter your current password."),
        ({"new_password": NEW_PASSWORD}, "Enter your current password."),
        ({"current_password": "PASSWORD", "new_password": ""}, "Enter a new password."),
        ({"current_password": "PASSWORD", "new_password": "short"}, "at least 10 characters"),
        ({"current_password": "PASSWORD", "new_password": "x" * 257}, "at most 256 characters"),
        ({"current_password": "PASSWORD", "new_password": "ab\x00cdefghijkl"}, "cannot be used"),
        ({"current_password": "PASSWORD", "new_password": "PASSWORD"}, "same as the current"),
    ],
)
def test_bad_new_passwords_change_nothing(client, app_ctx, fields, message):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    data = {name: value.replace("PASSWORD", password) for name, value in fields.items()}
    response = post_form(client, PAGE + "/password", data, page=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in _alert(html)
    credential = db.session.get(Credential, member.id)
    assert authentication.verify_password(credential.password_hash, password)
    assert not _events(member.id, "password.changed")
    assert not _mails(member, "security_notice.password")
    # Nothing typed is echoed back into the page.
    assert password not in html


# -- authenticator app -------------------------------------------------------------


def _new_key(html: str) -> str:
    match = re.search(r'id="totp-key">([A-Z2-7 ]+)</p>', html)
    assert match, "the page shows no key"
    return match.group(1).replace(" ", "")


def test_replacing_the_authenticator_needs_a_code_of_the_new_key(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    assert 'href="/account/security/authenticator"' in client.get(PAGE).get_data(as_text=True)
    page = client.get(PAGE + "/authenticator")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "Replace your authenticator app"
    assert "<svg " in html and 'class="qr-code"' in html
    new_key = _new_key(html)
    assert new_key != key
    # Reloading shows the same new key.
    assert _new_key(client.get(PAGE + "/authenticator").get_data(as_text=True)) == new_key

    wrong = post_form(client, PAGE + "/authenticator", {"code": totp_code(key)})
    assert wrong.status_code == 400
    assert "Your previous app still works." in alert_text(wrong.get_data(as_text=True))
    for bad in ("", "12", "abcdef", "1" * 17):
        response = post_form(client, PAGE + "/authenticator", {"code": bad})
        assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True)
    db.session.expire_all()
    credential = db.session.get(Credential, member.id)
    assert credential.totp_secret == key
    # The wrong code, "12" and "abcdef" reached the check; "" and 17 digits did not.
    assert len(_events(member.id, "totp.replacement_failed")) == 3

    done = post_form(
        client, PAGE + "/authenticator", {"code": pyotp.TOTP(new_key).now()}, page=PAGE
    )
    assert done.status_code == 200
    assert "new authenticator app is set up" in _status(done.get_data(as_text=True))
    db.session.expire_all()
    credential = db.session.get(Credential, member.id)
    assert credential.totp_secret == new_key and credential.totp_pending_secret is None
    assert len(_events(member.id, "totp.replaced")) == 1
    (notice,) = _mails(member, "security_notice.authenticator")
    assert "replaced" in notice.body and new_key not in notice.body

    # The old app no longer logs in; the new one does.
    post_form(client, "/logout", {})
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify", {"code": totp_code(key, 1)}).status_code == 400
    assert post_form(client, "/login/verify", {"code": totp_code(new_key, 1)}).status_code == 302


def test_a_wrong_code_keeps_the_old_app_working(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    client.get(PAGE + "/authenticator")
    assert post_form(client, PAGE + "/authenticator", {"code": "000000"}).status_code == 400
    post_form(client, "/logout", {})
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify", {"code": totp_code(key, 1)}).status_code == 302


def test_replacing_the_authenticator_needs_a_recent_two_factor_login(client, app_ctx):
    member, _password, _key = make_member()
    start_session(client, member, amr=("pwd",))
    response = client.get(PAGE + "/authenticator")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/login?next=%2Faccount%2Fsecurity%2Fauthenticator&prompt=login"
    )
    assert db.session.get(Credential, member.id).totp_pending_secret is None


def test_a_member_without_an_app_has_nothing_to_replace(client, app_ctx):
    member, _password, _key = make_member(totp=False)
    start_session(client, member)
    response = client.get(PAGE + "/authenticator")
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert "not set up yet" in client.get(PAGE).get_data(as_text=True)


# -- recovery codes ----------------------------------------------------------------


def _shown_codes(html: str) -> list[str]:
    return re.findall(r'<code class="recovery-code">([A-Z2-7-]+)</code>', html)


def _codes_field(html: str) -> str:
    return re.search(r'name="codes" value="([^"]*)"', html).group(1)


def test_new_codes_can_be_copied_downloaded_and_printed(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    html = post_form(client, PAGE + "/recovery-codes", {}, page=PAGE).get_data(as_text=True)
    codes = _shown_codes(html)
    assert len(codes) == 10
    assert re.search(r"<button[^>]*data-action=\"copy\"[^>]*hidden>Copy codes</button>", html)
    assert re.search(r"<button[^>]*data-action=\"print\"[^>]*hidden>Print</button>", html)
    assert re.search(r"<button[^>]*>Download as text</button>", html)
    assert '<script src="/static/js/recovery-codes.js" defer></script>' in html
    assert "<script>" not in html  # the CSP allows no inline script
    assert client.get("/static/js/recovery-codes.js").status_code == 200

    token = csrf_token(html)
    response = client.post(
        PAGE + "/recovery-codes/file", data={"csrf_token": token, "codes": _codes_field(html)}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="miles-and-more-recovery-codes.txt"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert [line for line in body.splitlines() if re.fullmatch(r"[A-Z2-7-]{19}", line)] == codes
    assert member.email in body


@pytest.mark.parametrize(
    "tamper",
    [
        lambda codes, others: "",
        lambda codes, others: " ".join(codes[:9] + ["AAAA-BBBB-CCCC-DDDD"]),
        lambda codes, others: " ".join(others),
        lambda codes, others: " ".join(codes + codes[:1]),
        lambda codes, others: "<script>alert(1)</script>",
        lambda codes, others: " ".join(codes) + " \x00",
        lambda codes, others: "A" * 401,
    ],
)
def test_the_file_holds_only_real_unused_codes(client, app_ctx, tamper):
    member, password, key = make_member()
    others = authentication.regenerate_recovery_codes(make_member()[0])
    log_in(client, member.email, password, key)
    html = post_form(client, PAGE + "/recovery-codes", {}, page=PAGE).get_data(as_text=True)
    response = client.post(
        PAGE + "/recovery-codes/file",
        data={"csrf_token": csrf_token(html), "codes": tamper(_shown_codes(html), others)},
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "not your current recovery codes" in alert_text(response.get_data(as_text=True))


def test_a_used_code_is_not_given_out_again(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    html = post_form(client, PAGE + "/recovery-codes", {}, page=PAGE).get_data(as_text=True)
    codes = _shown_codes(html)
    post_form(client, "/logout", {})
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify/recovery", {"code": codes[0]}).status_code == 302
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    response = client.post(
        PAGE + "/recovery-codes/file", data={"csrf_token": token, "codes": " ".join(codes)}
    )
    assert response.status_code == 400
    response = client.post(
        PAGE + "/recovery-codes/file", data={"csrf_token": token, "codes": " ".join(codes[1:])}
    )
    assert response.status_code == 200


def test_codes_after_enrolment_offer_the_same_ways_to_keep_them(app, client, app_ctx):
    member, password, _key = make_member(totp=False)
    page = client.get(start_enrolment(client, app, member.email, password)).get_data(as_text=True)
    new_key = _new_key(page)
    html = post_form(client, "/login/enrol", {"code": pyotp.TOTP(new_key).now()}).get_data(
        as_text=True
    )
    assert len(_shown_codes(html)) == 10
    assert "Copy codes" in html and "Print" in html and "Download as text" in html
    response = client.post(
        PAGE + "/recovery-codes/file",
        data={"csrf_token": csrf_token(html), "codes": _codes_field(html)},
    )
    assert response.status_code == 200
    assert _shown_codes(html)[0] in response.get_data(as_text=True)


# -- sessions ----------------------------------------------------------------------


def test_address_prefix_and_device():
    assert address_prefix("192.0.2.77") == "192.0.2.0/24"
    assert address_prefix("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert address_prefix("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert address_prefix("not an address") is None and address_prefix(None) is None
    assert shown_prefix("192.0.2.0/24") == "192.0.2.x"
    assert shown_prefix("2001:db8:abcd::/48") == "2001:db8:abcd::/48"
    assert shown_prefix(None) is None and shown_prefix("garbage") is None
    phone = device_of(IPHONE)
    assert (phone.browser, phone.system, phone.device) == (
        "Mobile Safari 17",
        "iOS",
        "Apple iPhone",
    )
    assert device_of("").browser is None and device_of(None).system is None


def test_sessions_show_device_browser_times_and_network_never_the_address(app, client, app_ctx):
    member, password, key = make_member()
    client.environ_base.update(REMOTE_ADDR="192.0.2.77", HTTP_USER_AGENT=CHROME)
    log_in(client, member.email, password, key)
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR="2001:db8:abcd:12::1", HTTP_USER_AGENT=IPHONE)
    enter_password(phone, member.email, password)
    post_form(phone, "/login/verify", {"code": totp_code(key, 1)})

    rows = db.session.scalars(select(SSOSession).where(SSOSession.member_id == member.id)).all()
    assert sorted(r.address_prefix for r in rows) == ["192.0.2.0/24", "2001:db8:abcd::/48"]
    html = client.get(PAGE).get_data(as_text=True)
    assert "192.0.2.77" not in html and "2001:db8:abcd:12::1" not in html
    items = re.findall(r'<li class="session"(.*?)</li>', html, re.S)
    assert len(items) == 2
    mine, other = items  # this device first
    assert "Chrome 131" in mine and "Linux" in mine and "this device" in mine
    assert "192.0.2.x" in mine and "End session" not in mine
    assert "Mobile Safari 17" in other and "Apple iPhone" in other and "iOS" in other
    assert "2001:db8:abcd::/48" in other and "End session" in other
    assert "Signed in" in mine and "Last activity" in mine
    assert re.search(r"<button[^>]*>End all other sessions</button>", html)


def test_behind_a_trusted_proxy_the_members_network_is_kept(app, database_url, tmp_path):
    from idp.extensions import limiter

    proxied = make_test_app(database_url, tmp_path / "instance", trusted_proxies=1)
    try:
        with app.app_context():
            member, password, key = make_member()
            member_id, email = member.id, member.email
        browser = proxied.test_client()
        browser.environ_base["REMOTE_ADDR"] = "10.0.0.1"
        headers = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "http"}
        token = csrf_token(browser.get("/login", headers=headers).get_data(as_text=True))
        data = {"login": email, "password": password, "csrf_token": token}
        browser.post("/login", data=data, headers=headers)
        token = csrf_token(browser.get("/login/verify", headers=headers).get_data(as_text=True))
        data = {"code": totp_code(key), "csrf_token": token}
        assert browser.post("/login/verify", data=data, headers=headers).status_code == 302
        with app.app_context():
            (row,) = db.session.scalars(
                select(SSOSession).where(SSOSession.member_id == member_id)
            ).all()
            assert row.address_prefix == "198.51.100.0/24"
    finally:
        limiter.init_app(app)


def test_end_session_logs_the_other_device_out_and_tells_its_partners(app, client, app_ctx):
    member, password, key, other, other_sid = _member_on_two_browsers(app, client)
    third = app.test_client()
    third_sid = start_session(third, member)
    partner_client, _secret = make_client(backchannel_logout_uri="https://rp.example/logout")
    issue_token(member, partner_client, "openid email", sid=other_sid)
    issue_token(member, partner_client, "openid email", sid=third_sid)
    html = client.get(PAGE).get_data(as_text=True)
    assert html.count(">End session</button>") == 2

    response = post_form(client, f"{PAGE}/sessions/{other_sid}/end", {}, page=PAGE)
    assert response.status_code == 200
    assert "The session is ended." in _status(response.get_data(as_text=True))
    assert not _logged_in(other)
    assert _logged_in(client) and _logged_in(third)
    assert other_sid not in client.get(PAGE).get_data(as_text=True)
    (event,) = _events(member.id, "session.ended")
    assert event.details["sid"] == other_sid and event.details["reason"] == "ended_by_member"
    queued = db.session.scalars(
        select(PartnerNotification).where(PartnerNotification.client_id == partner_client.id)
    ).all()
    assert len(queued) == 1 and queued[0].kind == "backchannel_logout"
    assert json.loads(queued[0].payload)["claims"]["sid"] == other_sid
    # Ending it again: nothing left to end.
    again = post_form(client, f"{PAGE}/sessions/{other_sid}/end", {}, page=PAGE)
    assert again.status_code == 404


def test_a_session_of_another_member_is_not_found_and_not_ended(app, client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    stranger = make_member()[0]
    stranger_browser = app.test_client()
    stranger_sid = start_session(stranger_browser, stranger)
    for sid in (stranger_sid, "no-such-session", "x" * 300):
        response = post_form(client, f"{PAGE}/sessions/{sid}/end", {}, page=PAGE)
        assert response.status_code == 404, sid
    db.session.expire_all()
    assert _live(stranger_sid)
    assert _logged_in(stranger_browser)
    assert not _events(member.id, "session.ended") and not _events(stranger.id, "session.ended")


def test_the_current_session_is_ended_by_logging_out(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    sid = db.session.scalar(select(SSOSession.id).where(SSOSession.member_id == member.id))
    response = post_form(client, f"{PAGE}/sessions/{sid}/end", {}, page=PAGE)
    assert response.status_code == 400
    assert "To end it, log out." in alert_text(response.get_data(as_text=True))
    assert _logged_in(client)


def test_end_all_other_sessions(app, client, app_ctx):
    member, password, key, other, other_sid = _member_on_two_browsers(app, client)
    third = app.test_client()
    start_session(third, member)
    stranger_browser = app.test_client()
    start_session(stranger_browser, make_member()[0])
    response = post_form(client, PAGE + "/sessions/end-others", {}, page=PAGE)
    assert response.status_code == 200
    assert "2 other sessions were logged out." in _status(response.get_data(as_text=True))
    assert _logged_in(client)
    assert not _logged_in(other) and not _logged_in(third)
    assert _logged_in(stranger_browser)
    html = client.get(PAGE).get_data(as_text=True)
    assert "End session" not in html and "End all other sessions" not in html
