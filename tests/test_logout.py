"""``/logout``: a page with a button; its POST ends the SSO session for good."""

from __future__ import annotations

import re

from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, SSOSession
from tests.factories import make_member
from tests.login_flow import csrf_token, h1, log_in, post_form


def test_logout_page_has_a_log_out_button(client):
    response = client.get("/logout")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert h1(html)
    assert re.search(r"<button[^>]*>Log out</button>", html)
    assert 'name="csrf_token"' in html


def test_logout_ends_the_session_and_the_old_cookie_no_longer_logs_in(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    assert client.get("/account").status_code == 200
    old_cookie = client.get_cookie("mam_session").value

    response = post_form(client, "/logout", {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "You have logged out." in client.get("/login").get_data(as_text=True)
    assert client.get("/account").headers["Location"] == "/login?next=%2Faccount"

    [sso] = db.session.scalars(select(SSOSession).where(SSOSession.member_id == member.id)).all()
    db.session.refresh(sso)
    assert sso.ended_at is not None
    ended = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "session.ended")).all()
    assert [e.details["reason"] for e in ended] == ["logout"]

    # Someone who copied the cookie before the logout gets nothing from it now.
    client.set_cookie("mam_session", old_cookie)
    assert client.get("/account").status_code == 302


def test_logout_without_csrf_token_is_refused(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_logout_from_the_account_page_form(client, app_ctx):
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    html = client.get("/account").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout">', html)
    response = client.post("/logout", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
