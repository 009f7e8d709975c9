"""Odd input on every login form: a form message with a 4xx, never a 500, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import EmailCode, OutgoingMail, RecoveryCode, SSOSession
from tests.factories import make_member
from tests.login_flow import csrf_token, enter_password

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
