"""The password step of ``/login``: email or card number, wrong and unknown logins, CSRF."""

from __future__ import annotations

import re
import time

from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from idp.extensions import db
from idp.models import AuditEvent, Credential
from idp.services.passwords import needs_rehash
from tests.factories import make_member
from tests.login_flow import alert_text, csrf_token, enter_password, h1, post_form


def _events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.query(AuditEvent).filter_by(event=name).all()


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_login_page_has_the_words_of_the_interface(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert h1(html) == "Log in with Miles & More"
    assert '<label for="login">Email or card number</label>' in html
    assert '<label for="password">Password</label>' in html
    assert re.search(r"<button[^>]*>Log in</button>", html)
    assert 'type="hidden" name="csrf_token"' in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_login_hint_fills_in_the_login_name(client):
    html = client.get("/login?login_hint=anna%40example.com").get_data(as_text=True)
    assert 'value="anna@example.com"' in html


def test_right_password_by_email_leads_to_the_second_factor(client, app_ctx):
    member, password, _key = make_member()
    response = enter_password(client, member.email.upper(), password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/verify"
    # Not logged in yet: the account needs both factors.
    assert client.get("/account").status_code == 302


def test_card_number_works_as_login_name_with_spaces(client, app_ctx):
    member, password, _key = make_member()
    number = member.card_number
    spaced = f"{number[:3]} {number[3:7]} {number[7:11]} {number[11:]}"
    response = enter_password(client, spaced, password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/verify"


def test_wrong_password_is_refused_with_an_alert(client, app_ctx):
    member, _password, _key = make_member()
    response = enter_password(client, member.email, "not the password")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "do not match" in alert_text(html)
    assert 'value="not the password"' not in html  # passwords are never echoed
    [event] = _events("login.password_failed")
    assert event.member_id == member.id
    assert event.details == {"reason": "wrong_password"}


def test_unknown_account_gets_the_same_answer_as_a_wrong_password(client, app_ctx):
    member, _password, _key = make_member(email="known@example.com")
    wrong = enter_password(client, "known@example.com", "wrong password 1")
    unknown = enter_password(client, "nobody@example.com", "wrong password 1")
    assert wrong.status_code == unknown.status_code == 400
    same_login = _without_token(wrong.get_data(as_text=True)).replace("known@example.com", "LOGIN")
    other_login = _without_token(unknown.get_data(as_text=True)).replace(
        "nobody@example.com", "LOGIN"
    )
    assert same_login == other_login
    [event] = [e for e in _events("login.password_failed") if e.member_id is None]
    assert event.details == {"reason": "unknown_login"}
    assert "nobody" not in str(event.details)


def test_passwords_are_hashed_with_the_rfc_9106_low_memory_profile(
    production_password_hashing, client, app_ctx
):
    """Production hashes with argon2id as RFC 9106 §4 recommends for memory-constrained use."""
    member, password, _key = make_member()
    stored = db.session.get(Credential, member.id).password_hash
    assert extract_parameters(stored) == RFC_9106_LOW_MEMORY
    assert not needs_rehash(stored)
    # A hash of weaker parameters (as the test suite's own) is replaced at the next login.
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)
    db.session.get(Credential, member.id).password_hash = weak
    db.session.commit()
    enter_password(client, member.email, password)
    db.session.expire_all()
    assert extract_parameters(db.session.get(Credential, member.id).password_hash) == (
        RFC_9106_LOW_MEMORY
    )
    assert [e.member_id for e in _events("login.password_rehashed")] == [member.id]


def test_unknown_account_costs_about_the_time_of_a_wrong_password(
    production_password_hashing, client, app_ctx
):
    """The dummy argon2 hash is spent: without it an unknown name answers many times faster."""
    member, _password, _key = make_member()

    def median(login: str) -> float:
        times = []
        for _ in range(5):
            html = client.get("/login").get_data(as_text=True)
            data = {"login": login, "password": "wrong password", "csrf_token": csrf_token(html)}
            start = time.perf_counter()
            client.post("/login", data=data)
            times.append(time.perf_counter() - start)
        return sorted(times)[2]

    # Two logins, each under the lockout threshold of five.
    known, unknown = median(member.email), median("nobody@example.com")
    assert unknown > known * 0.5, (known, unknown)


def test_missing_fields_are_a_form_error(client):
    response = post_form(client, "/login", {"login": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html
    assert "Enter your email address or card number." in html
    assert "Enter your password." in html
    assert 'aria-invalid="true"' in html


def test_overlong_input_is_a_form_error_not_a_crash(client):
    response = post_form(client, "/login", {"login": "a" * 5000, "password": "b" * 5000})
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, app_ctx):
    member, password, _key = make_member()
    assert client.application.config.get("WTF_CSRF_ENABLED", True) is True
    response = client.post("/login", data={"login": member.email, "password": password})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    wrong = client.post(
        "/login", data={"login": member.email, "password": password, "csrf_token": "forged"}
    )
    assert wrong.status_code == 400
    # Nothing was started: the second step sends the browser back to the password.
    assert client.get("/login/verify").headers["Location"] == "/login"
