"""Brute force: account lockout that grows, the same for unknown names, and per-address limits."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuditEvent, Lockout, SSOSession
from idp.models.types import utcnow
from idp.services import lockout
from tests.factories import make_member
from tests.login_flow import alert_text, csrf_token, enter_password, h1, post_form, totp_code

LOCKED = "Too many failed attempts"


def _events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def _fail_passwords(client, login: str, times: int):
    responses = [enter_password(client, login, f"wrong password {i}") for i in range(times)]
    return responses[-1]


def _unlock(key: str) -> None:
    """Move the end of the lock into the past, as time passing would."""
    db.session.execute(
        update(Lockout)
        .where(Lockout.key == key)
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_five_wrong_passwords_lock_the_account(client, app_ctx):
    member, password, _key = make_member()
    for _attempt in range(4):
        assert enter_password(client, member.email, "wrong password").status_code == 400
    fifth = enter_password(client, member.email, "wrong password")
    html = fifth.get_data(as_text=True)
    assert fifth.status_code == 429
    assert h1(html) == "Log in with Miles & More"
    assert LOCKED in alert_text(html)
    assert 0 < int(fifth.headers["Retry-After"]) <= 60

    # Locked: even the right password is refused, by card number too.
    right = enter_password(client, member.email, password)
    assert right.status_code == 429 and LOCKED in alert_text(right.get_data(as_text=True))
    by_card = enter_password(client, member.card_number, password)
    assert by_card.status_code == 429

    assert len(_events("login.password_failed")) == 5
    [locked] = _events("login.locked")
    assert locked.member_id == member.id
    assert len(_events("login.refused_locked")) == 2


def test_lock_ends_and_grows_with_each_lockout(client, app_ctx):
    member, password, _key = make_member()
    key = lockout.member_key(member.id)
    base = client.application.config["IDP"].lockout_base_seconds

    _fail_passwords(client, member.email, 5)
    first = db.session.get(Lockout, key)
    db.session.refresh(first)
    assert timedelta(seconds=base - 5) < first.locked_until - utcnow() <= timedelta(seconds=base)

    _unlock(key)
    assert enter_password(client, member.email, "wrong again").status_code == 400
    second = _fail_passwords(client, member.email, 4)
    assert second.status_code == 429
    row = db.session.get(Lockout, key)
    db.session.refresh(row)
    assert row.lockouts == 2
    assert (
        timedelta(seconds=2 * base - 5) < row.locked_until - utcnow() <= timedelta(seconds=2 * base)
    )
    assert int(second.headers["Retry-After"]) > base


def test_unknown_login_names_lock_out_the_same_way(client, app_ctx):
    make_member(email="real@example.com")
    unknown = "nobody-here@example.com"
    responses = [enter_password(client, unknown, "some password") for _ in range(5)]
    real = [enter_password(client, "real@example.com", "some password") for _ in range(5)]
    assert [r.status_code for r in responses] == [r.status_code for r in real]
    assert responses[-1].status_code == 429
    assert alert_text(responses[-1].get_data(as_text=True)) == alert_text(
        real[-1].get_data(as_text=True)
    )
    # Counted under a keyed hash: the name itself is stored nowhere.
    keys = db.session.scalars(select(Lockout.key)).all()
    assert lockout.login_name_key(unknown) in keys
    assert not any("nobody" in k for k in keys)


def test_five_wrong_codes_lock_the_account(client, app_ctx):
    member, password, key = make_member()
    enter_password(client, member.email, password)
    right = totp_code(key)
    wrong = "000000" if right != "000000" else "111111"
    for _attempt in range(4):
        assert post_form(client, "/login/verify", {"code": wrong}).status_code == 400
    fifth = post_form(client, "/login/verify", {"code": wrong})
    html = fifth.get_data(as_text=True)
    assert fifth.status_code == 429
    assert h1(html) == "Two-step verification"
    assert LOCKED in alert_text(html)
    # The right code does not help now, nor a recovery code, nor the password again.
    assert post_form(client, "/login/verify", {"code": right}).status_code == 429
    assert enter_password(client, member.email, password).status_code == 429
    assert db.session.scalars(select(SSOSession)).all() == []
    assert len(_events("login.second_factor_failed")) == 5


def test_wrong_passwords_and_codes_count_together(client, app_ctx):
    """Knowing the password must not buy fresh guesses at the code."""
    member, password, key = make_member()
    wrong = "000000" if totp_code(key) != "000000" else "111111"
    _fail_passwords(client, member.email, 3)
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify", {"code": wrong}).status_code == 400
    enter_password(client, member.email, password)  # a right password resets nothing
    assert post_form(client, "/login/verify", {"code": wrong}).status_code == 429


def test_a_finished_login_clears_the_failures(client, app_ctx):
    member, password, key = make_member()
    _fail_passwords(client, member.email, 4)
    enter_password(client, member.email, password)
    assert post_form(client, "/login/verify", {"code": totp_code(key)}).status_code == 302
    assert db.session.get(Lockout, lockout.member_key(member.id)) is None


def test_per_address_rate_limit_answers_429_on_the_page(client, app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], login_rate_limit="3/minute"))
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    client.environ_base["REMOTE_ADDR"] = address
    # Different names each time: the account lockout plays no part here.
    statuses = []
    for i in range(4):
        html = client.get("/login").get_data(as_text=True)
        response = client.post(
            "/login",
            data={
                "login": f"n{i}@example.com",
                "password": "x" * 12,
                "csrf_token": csrf_token(html),
            },
        )
        statuses.append(response.status_code)
    assert statuses == [400, 400, 400, 429]
    html = response.get_data(as_text=True)
    assert h1(html) == "Log in with Miles & More"
    assert "Too many attempts from your network" in alert_text(html)
    assert "Retry-After" in response.headers
    [event] = _events("login.rate_limited")
    assert event.ip_address == address and event.details == {"endpoint": "login.login"}

    # GET is never limited, and another address has its own budget.
    assert client.get("/login").status_code == 200
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    html = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"login": "a@example.com", "password": "x", "csrf_token": csrf_token(html)}
    )
    assert response.status_code == 400


def test_rate_limit_covers_the_second_factor_too(client, app, app_ctx, monkeypatch):
    member, password, key = make_member()
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], login_rate_limit="2/minute"))
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{secrets.randbelow(250) + 1}"
    enter_password(client, member.email, password)
    wrong = "000000" if totp_code(key) != "000000" else "111111"
    assert post_form(client, "/login/verify", {"code": wrong}).status_code == 400
    response = post_form(client, "/login/verify/recovery", {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert h1(html) == "Two-step verification"
    assert "Too many attempts from your network" in alert_text(html)
