"""The second step: TOTP, recovery codes and email codes; the session they start."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, EmailCode, OutgoingMail, SSOSession
from idp.models.types import utcnow
from idp.services import authentication
from tests.factories import make_member
from tests.login_flow import alert_text, enter_password, h1, log_in, post_form, totp_code


def _sessions(member_id: str) -> list[SSOSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(SSOSession).where(SSOSession.member_id == member_id)))


def _events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def _recovery_codes(member) -> list[str]:
    return authentication.regenerate_recovery_codes(member)


def test_second_factor_page_has_the_words_of_the_interface(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    html = client.get("/login/verify").get_data(as_text=True)
    assert h1(html) == "Two-step verification"
    assert '<label for="code">Authentication code</label>' in html
    assert re.search(r"<button[^>]*>Verify</button>", html)
    assert 'href="/login/verify/recovery"' in html
    assert 'href="/login/verify/email"' in html


def test_password_and_totp_log_in_and_record_amr_and_auth_time(client, app_ctx):
    member, password, key = make_member()
    before = utcnow()
    response = log_in(client, member.email, password, key)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    [sso] = _sessions(member.id)
    assert sso.amr == ["pwd", "otp", "mfa"]
    assert before - timedelta(seconds=1) <= sso.auth_time <= utcnow()
    assert sso.ended_at is None
    assert client.get("/account").status_code == 200
    [event] = _events("login.second_factor_passed")
    assert event.details == {"method": "totp"}


def test_a_used_totp_step_is_refused(client, app_ctx):
    member, password, key = make_member()
    code = totp_code(key)
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify", {"code": code}).status_code == 302
    post_form(client, "/logout", {})

    enter_password(client, member.email, password)
    replay = post_form(client, "/login/verify", {"code": code})
    assert replay.status_code == 400
    assert "code is not right" in alert_text(replay.get_data(as_text=True))
    assert len(_sessions(member.id)) == 1
    # The next step's code is still good (the window is one step either side).
    later = post_form(client, "/login/verify", {"code": totp_code(key, steps_ahead=1)})
    assert later.status_code == 302


def test_wrong_totp_is_refused_and_audited(client, app_ctx):
    member, password, key = make_member()
    enter_password(client, member.email, password)
    wrong = "000000" if totp_code(key) != "000000" else "111111"
    response = post_form(client, "/login/verify", {"code": wrong})
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert _sessions(member.id) == []
    [event] = _events("login.second_factor_failed")
    assert event.member_id == member.id and event.details == {"method": "totp"}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code from your authenticator app."),
        ("1" * 17, "The code has six digits."),
        ("12\x0034", "The code has six digits."),
    ],
)
def test_malformed_totp_is_a_form_error(client, app_ctx, code, message):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    response = post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="code-error">{message}</p>' in html
    assert alert_text(html).startswith("Please correct the following:")
    summary = html.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert message in summary
    assert _sessions(member.id) == []
    # The form refused it before any code was checked: no failed attempt is counted.
    assert _events("login.second_factor_failed") == []


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_a_code_of_the_wrong_shape_is_a_wrong_code(client, app_ctx, code):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    response = post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert alert_text(html) == "That code is not right. Please check it and try again."
    assert 'class="field-error"' not in html
    assert _sessions(member.id) == []
    [event] = _events("login.second_factor_failed")
    assert event.member_id == member.id and event.details == {"method": "totp"}


def test_second_step_without_a_password_goes_back_to_login(client):
    for url in ("/login/verify", "/login/verify/recovery", "/login/verify/email", "/login/enrol"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"
    response = post_form(client, "/login/verify", {"code": "123456"}, page="/login")
    assert response.headers["Location"] == "/login"


def test_pending_login_expires(client, app_ctx, monkeypatch):
    member, password, key = make_member()
    enter_password(client, member.email, password)
    late = utcnow() + timedelta(seconds=client.application.config["IDP"].pending_login_seconds + 1)
    monkeypatch.setattr("idp.services.sso.utcnow", lambda: late)
    response = client.get("/login/verify")
    assert response.headers["Location"] == "/login"


def test_recovery_code_logs_in_once(client, app_ctx):
    member, password, _key = make_member()
    codes = _recovery_codes(member)
    assert len(codes) == 10
    assert all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", c) for c in codes)

    enter_password(client, member.email, password)
    html = client.get("/login/verify/recovery").get_data(as_text=True)
    assert h1(html) == "Two-step verification"
    typed = codes[3].lower().replace("-", " ")  # case, spaces and dashes do not matter
    response = post_form(client, "/login/verify/recovery", {"code": typed})
    assert response.status_code == 302
    [sso] = _sessions(member.id)
    assert sso.amr == ["pwd", "otp", "mfa"]
    post_form(client, "/logout", {})

    enter_password(client, member.email, password)
    again = post_form(client, "/login/verify/recovery", {"code": codes[3]})
    assert again.status_code == 400
    assert len(_sessions(member.id)) == 1
    assert post_form(client, "/login/verify/recovery", {"code": codes[4]}).status_code == 302


def test_another_members_recovery_code_does_not_work(client, app_ctx):
    member, password, _key = make_member()
    other, _password, _key2 = make_member()
    _recovery_codes(member)
    others = _recovery_codes(other)
    enter_password(client, member.email, password)
    response = post_form(client, "/login/verify/recovery", {"code": others[0]})
    assert response.status_code == 400


def _sent_code(member) -> str:
    db.session.expire_all()
    mail = db.session.scalars(
        select(OutgoingMail)
        .where(OutgoingMail.purpose == "email_code")
        .order_by(OutgoingMail.id.desc())
    ).first()
    assert mail.recipient == member.email
    return re.search(r"^\s+(\d{6})\s*$", mail.body, re.M).group(1)


def test_email_code_logs_in(client, app_ctx):
    member, password, _key = make_member(given_name="Ewa")
    enter_password(client, member.email, password)
    html = client.get("/login/verify/email").get_data(as_text=True)
    assert h1(html) == "Two-step verification"
    assert member.email not in html  # the address is shown masked
    sent = post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    assert sent.status_code == 302
    confirmation = client.get("/login/verify/email").get_data(as_text=True)
    assert 'role="status"' in confirmation and "We have sent a code" in confirmation

    code = _sent_code(member)
    mail = db.session.scalars(select(OutgoingMail)).all()[-1]
    assert "Hello Ewa," in mail.body and mail.subject == "Your Miles & More login code"
    stored = db.session.scalars(select(EmailCode).where(EmailCode.member_id == member.id)).one()
    assert code not in stored.code_hash

    response = post_form(client, "/login/verify/email", {"code": code})
    assert response.status_code == 302
    [sso] = _sessions(member.id)
    assert sso.amr == ["pwd", "otp", "mfa"]
    post_form(client, "/logout", {})

    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify/email", {"code": code}).status_code == 400


def test_email_code_expires(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    code = _sent_code(member)
    row = db.session.scalars(select(EmailCode).where(EmailCode.member_id == member.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert post_form(client, "/login/verify/email", {"code": code}).status_code == 400


def test_email_code_resend_is_throttled_and_only_the_newest_code_works(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    first = _sent_code(member)

    again = post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    assert again.status_code == 429
    assert "ask for a new one" in alert_text(again.get_data(as_text=True))
    assert int(again.headers["Retry-After"]) > 0
    assert db.session.query(OutgoingMail).count() == 1

    # A minute later a new code replaces the first.
    row = db.session.scalars(select(EmailCode).where(EmailCode.member_id == member.id)).one()
    row.created_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    second = _sent_code(member)
    live = db.session.scalars(
        select(EmailCode).where(EmailCode.member_id == member.id, EmailCode.used_at.is_(None))
    ).all()
    assert len(live) == 1
    if first != second:
        assert post_form(client, "/login/verify/email", {"code": first}).status_code == 400
    assert post_form(client, "/login/verify/email", {"code": second}).status_code == 302


def test_next_is_followed_after_both_factors(client, app_ctx):
    member, password, key = make_member()
    target = "/oauth/authorize?client_id=abc&scope=openid%20profile&state=xyz"
    response = log_in(client, member.email, password, key, next_path=_quoted(target))
    assert response.headers["Location"] == target


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


def _where_a_browser_goes(location: str) -> str:
    """Resolve a Location header as browsers do: tabs and newlines dropped, ``\\`` read as ``/``."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://127.0.0.1:5000/login/verify", cleaned)).netloc


@pytest.mark.parametrize(
    "attempt",
    [
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "https://evil.example/",
        "http:evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_next_never_leaves_the_provider(client, app_ctx, attempt):
    member, password, key = make_member()
    response = log_in(client, member.email, password, key, next_path=_quoted(attempt))
    assert response.headers["Location"] == "/account"


def test_an_encoded_next_stays_a_path_on_the_provider(client, app_ctx):
    member, password, key = make_member()
    attempt = "/%2F%2Fevil.example/%0a"
    response = log_in(client, member.email, password, key, next_path=_quoted(attempt))
    assert response.headers["Location"] == attempt
    assert _where_a_browser_goes(response.headers["Location"]) == "127.0.0.1:5000"


def test_logged_in_member_visiting_login_goes_on_unless_asked_to_log_in_again(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    response = client.get("/login?next=/account/security")
    assert response.status_code == 302 and response.headers["Location"] == "/account/security"
    fresh = client.get("/login?next=/account&prompt=login")
    assert (
        fresh.status_code == 200 and h1(fresh.get_data(as_text=True)) == "Log in with Miles & More"
    )


def test_member_language_is_used_on_the_second_step(client, app_ctx):
    member, password, _key = make_member(locale="de")
    client.set_cookie("mam_session", "", expires=0)
    enter_password(client, member.email, password)
    html = client.get("/login/verify", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="de">' in html
    # ui_locales still wins over the member's preference.
    html = client.get("/login/verify?ui_locales=pl").get_data(as_text=True)
    assert '<html lang="pl">' in html
