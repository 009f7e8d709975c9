"""Odd input on every login form: a form message with a 4xx, never a 500, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, EmailCode, OutgoingMail, RecoveryCode, SSOSession
from tests.factories import make_member
from tests.login_flow import alert_text, csrf_token, enter_password, h1, log_in

ODD_VALUES = [
    "\x00",
    "a\x00b@example.com",
    "١٢٣٤٥٦",  # digits, but not ASCII ones
    "12345\n6",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "😀" * 40,
    "x" * 3000,
]
SECOND_STEP_FORMS = ["/login/verify", "/login/verify/recovery", "/login/verify/email"]


def _counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (SSOSession, RecoveryCode, EmailCode, OutgoingMail)
    )


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_login_names_and_passwords(client, app_ctx, value):
    html = client.get("/login").get_data(as_text=True)
    token = csrf_token(html)
    for data in (
        {"login": value, "password": "x" * 12},
        {"login": "a@b.example", "password": value},
    ):
        response = client.post("/login", data={**data, "csrf_token": token})
        assert response.status_code == 400
        assert 'role="alert"' in response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_codes_on_every_second_step(client, app_ctx, value):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    before = _counts()
    for url in SECOND_STEP_FORMS:
        token = csrf_token(client.get(url).get_data(as_text=True))
        response = client.post(url, data={"code": value, "csrf_token": token})
        assert response.status_code in (400, 429), url
        assert 'role="alert"' in response.get_data(as_text=True)
    assert _counts() == before


def test_repeated_fields_and_missing_fields(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    token = csrf_token(client.get("/login/verify").get_data(as_text=True))
    twice = client.post("/login/verify", data={"code": ["123456", "654321"], "csrf_token": token})
    assert twice.status_code == 400
    missing = client.post("/login/verify", data={"csrf_token": token})
    assert missing.status_code == 400
    assert "Enter the code from your authenticator app." in missing.get_data(as_text=True)


def test_json_body_instead_of_a_form(client):
    response = client.post("/login", json={"login": "a@b.example", "password": "x"})
    assert response.status_code == 400


def test_methods_the_pages_do_not_take(client):
    assert client.put("/login").status_code == 405
    assert client.delete("/logout").status_code == 405
    assert client.get("/login/verify/email/send").status_code == 405


# -- NUL, bytes that are not UTF-8, bodies over the limit, headers -------------------

NOT_TEXT = "This holds characters that cannot be used."


def _assert_form_message(response, message: str) -> None:
    """The message is listed in the page's alert and next to its field."""
    html = response.get_data(as_text=True)
    alert = html[html.index('role="alert"') :]
    assert message in alert[: alert.index("</div>")]
    assert f'class="field-error" id="{_field_of(html)}-error">{message}' in html


def _field_of(html: str) -> str:
    return html.split('class="field-error" id="')[1].split("-error")[0]


@pytest.mark.parametrize("field", ["login", "password"])
@pytest.mark.parametrize("value", ["a\x00b@example.com", "\x00", "caf\ufffd"])
def test_a_field_that_is_not_text_gets_a_form_message(client, app_ctx, field, value):
    member, password, _key = make_member()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"login": member.email, "password": password, field: value, "csrf_token": token}
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post("/login", data=data)
    assert response.status_code == 400
    _assert_form_message(response, NOT_TEXT)
    # Refused before any lookup: no failure is counted, nothing is written.
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_bytes_that_are_not_utf8_in_the_form_body(client, app_ctx):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for body in (b"login=%FF%FE&password=xxxxxxxxxxxx", b"login=\xff\xfe&password=xxxxxxxxxxxx"):
        response = client.post(
            "/login",
            data=body + b"&csrf_token=" + token.encode(),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400
        _assert_form_message(response, NOT_TEXT)


@pytest.mark.parametrize("url", SECOND_STEP_FORMS)
def test_a_code_that_is_not_text_gets_the_codes_message(client, app_ctx, url):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"code": "12\x0034", "csrf_token": token})
    assert response.status_code == 400
    expected = "The code has six digits."
    if url.endswith("recovery"):
        expected = "A recovery code has 16 characters, letters and digits."
    _assert_form_message(response, expected)


def test_a_megabyte_login_identifier_is_a_form_message(client, app_ctx):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"login": "a" * 1024 * 1024, "password": "x" * 12, "csrf_token": token}
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert h1(html) == "Log in with Miles & More"
    assert "What was sent is too large" in alert_text(html)


def test_a_megabyte_code_on_the_second_step_is_a_form_message(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    token = csrf_token(client.get("/login/verify").get_data(as_text=True))
    response = client.post("/login/verify", data={"code": "1" * 1024 * 1024, "csrf_token": token})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert h1(html) == "Two-step verification"
    assert "What was sent is too large" in alert_text(html)


def test_a_megabyte_sent_to_enrolment_by_an_enrolled_member_is_the_code_step(client, app_ctx):
    member, password, _key = make_member()
    enter_password(client, member.email, password)
    token = csrf_token(client.get("/login/verify").get_data(as_text=True))
    response = client.post("/login/enrol", data={"code": "1" * 1024 * 1024, "csrf_token": token})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert h1(html) == "Two-step verification"
    assert "What was sent is too large" in alert_text(html)


def test_the_413_form_message_in_german(client):
    response = client.post(
        "/login?ui_locales=de",
        data=b"login=" + b"a" * (300 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "Die gesendeten Daten sind zu groß" in alert_text(response.get_data(as_text=True))


def test_a_nul_in_the_user_agent_is_removed_before_the_session_stores_it(client, app_ctx):
    member, password, key = make_member()
    agent = "Browser/1.0\x00 (\x01evil\x7f)" + "x" * 1000
    client.environ_base["HTTP_USER_AGENT"] = agent
    response = log_in(client, member.email, password, key)
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.scalar(
        select(SSOSession.user_agent).where(SSOSession.member_id == member.id)
    )
    assert stored.startswith("Browser/1.0 (evil)")
    assert "\x00" not in stored and len(stored) <= 200


def test_an_address_that_is_no_address_is_cleaned_before_the_audit_log_stores_it(client, app_ctx):
    """Behind a proxy the address comes from a header, which may carry anything."""
    member, _password, _key = make_member()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"login": member.email, "password": "wrong password", "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": "\x00not an address " + "x" * 100},
    )
    assert response.status_code == 400
    db.session.expire_all()
    stored = db.session.scalar(
        select(AuditEvent.ip_address)
        .where(AuditEvent.member_id == member.id)
        .order_by(AuditEvent.id.desc())
    )
    assert stored == ("not an address " + "x" * 100)[:45]
