"""Members without a second factor enrol through a mailed link, not after the password alone."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from idp.extensions import db
from idp.models import AccountLink, AuditEvent, Credential, OutgoingMail
from idp.models.types import utcnow
from tests.factories import make_member
from tests.login_flow import (
    alert_text,
    enter_password,
    h1,
    link_path,
    mailed_link,
    post_form,
    start_enrolment,
    totp_code,
)

KEY_ON_PAGE = re.compile(r'id="totp-key">([A-Z2-7 ]+)</p>')


def _mails() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(OutgoingMail).where(OutgoingMail.purpose == "enrolment_link"))
    )


def _links(member_id: str) -> list[AccountLink]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccountLink).where(AccountLink.member_id == member_id).order_by(AccountLink.id)
        )
    )


def _events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def _pending_key(member_id: str) -> str | None:
    db.session.expire_all()
    return db.session.get(Credential, member_id).totp_secret


def test_the_password_step_mails_a_link_and_shows_check_your_email(client, app_ctx):
    member, password, _none = make_member(totp=False)
    response = enter_password(client, member.email, password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/enrol/email"
    page = client.get("/login/enrol/email")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "Check your email"
    status = re.search(r'role="status">(.*?)</div>', html, re.S).group(1)
    assert "m•••@example.com" in status and "30 minutes" in status
    assert re.search(r"<button[^>]*>Send the link again</button>", html)
    [mail] = _mails()
    assert mail.recipient == member.email
    assert "/login/enrol/link/" in mail.body
    [link] = _links(member.id)
    assert link.purpose == "enrolment" and link.used_at is None
    assert link.expires_at - link.created_at == timedelta(minutes=30)
    token = mailed_link(member.email).rsplit("/", 1)[1]
    assert token not in link.token_hash
    assert [e.member_id for e in _events("enrolment_link.sent")] == [member.id]


def test_the_enrolment_page_shows_no_key_without_the_link(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    for method in ("get", "post"):
        response = getattr(client, method)("/login/enrol")
        assert response.status_code in (302, 400)
        assert not KEY_ON_PAGE.search(response.get_data(as_text=True))
    assert client.get("/login/enrol").headers["Location"] == "/login/enrol/email"
    assert client.get("/login/verify").headers["Location"] == "/login/enrol"
    assert _pending_key(member.id) is None
    # Without a password step at all, the login again.
    assert app.test_client().get("/login/enrol/email").headers["Location"] == "/login"


def test_following_the_link_in_the_same_browser_goes_on_to_enrolment(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    start_enrolment(client, app, member.email, password, next_path="/account/apps")
    [link] = _links(member.id)
    assert link.used_at is not None
    assert [e.member_id for e in _events("enrolment_link.followed")] == [member.id]
    html = client.get("/login/enrol").get_data(as_text=True)
    assert h1(html) == "Set up two-step verification"
    key = KEY_ON_PAGE.search(html).group(1).replace(" ", "")
    done = post_form(client, "/login/enrol", {"code": totp_code(key)})
    assert h1(done.get_data(as_text=True)) == "Your recovery codes"
    assert client.get("/login/continue").headers["Location"] == "/account/apps"


def test_another_browser_gives_the_password_first(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    path = link_path(mailed_link(member.email))
    phone = app.test_client()
    page = phone.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "Confirm it is you"
    assert '<label for="password">Password</label>' in html
    assert not KEY_ON_PAGE.search(html)

    wrong = post_form(phone, path, {"password": "not the password"})
    assert wrong.status_code == 400
    assert "password is not right" in alert_text(wrong.get_data(as_text=True))
    assert _links(member.id)[0].used_at is None
    assert post_form(phone, path, {"password": ""}).status_code == 400
    # Without the CSRF token.
    assert phone.post(path, data={"password": password}).status_code == 400
    assert _links(member.id)[0].used_at is None

    right = post_form(phone, path, {"password": password})
    assert right.status_code == 302 and right.headers["Location"] == "/login/enrol"
    enrol = phone.get("/login/enrol").get_data(as_text=True)
    key = KEY_ON_PAGE.search(enrol).group(1).replace(" ", "")
    assert post_form(phone, "/login/enrol", {"code": totp_code(key)}).status_code == 200
    assert phone.get("/account").status_code == 200
    # The first browser still has no key to see.
    assert client.get("/login/enrol").status_code == 302


def test_wrong_passwords_at_the_link_lock_like_the_login(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    path = link_path(mailed_link(member.email))
    phone = app.test_client()
    for _attempt in range(4):
        assert post_form(phone, path, {"password": "not the password"}).status_code == 400
    locked = post_form(phone, path, {"password": "not the password"})
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert post_form(phone, path, {"password": password}).status_code == 429
    assert _links(member.id)[0].used_at is None


def test_used_expired_and_unknown_links(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    start_enrolment(client, app, member.email, password)
    path = link_path(mailed_link(member.email))
    used = app.test_client().get(path)
    assert used.status_code == 410
    assert "used already" in alert_text(used.get_data(as_text=True))
    assert client.get(path).status_code == 410  # the same browser too

    other, other_password, _none = make_member(totp=False)
    second = app.test_client()
    enter_password(second, other.email, other_password)
    [link] = _links(other.id)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = second.get(link_path(mailed_link(other.email)))
    assert expired.status_code == 410
    assert "expired" in alert_text(expired.get_data(as_text=True))
    assert second.get("/login/enrol").headers["Location"] == "/login/enrol/email"

    assert client.get("/login/enrol/link/no-such-token").status_code == 404
    assert client.get("/login/enrol/link/" + "y" * 300).status_code == 404


def test_a_reset_link_does_not_enrol(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    post_form(client, "/login/forgot", {"login": member.email})
    token = mailed_link(member.email, "password_reset").rsplit("/", 1)[1]
    enter_password(client, member.email, password)
    assert client.get(f"/login/enrol/link/{token}").status_code == 404
    assert client.get("/login/enrol").headers["Location"] == "/login/enrol/email"


def test_one_members_link_does_not_let_another_enrol(app, client, app_ctx):
    first, first_password, _none = make_member(totp=False)
    start_enrolment(client, app, first.email, first_password)
    second, second_password, _none = make_member(totp=False)
    enter_password(client, second.email, second_password)
    assert client.get("/login/enrol").headers["Location"] == "/login/enrol/email"
    assert _pending_key(second.id) is None


def test_resending_waits_a_minute_then_sends_a_new_link(client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    # A second password step moments later mails nothing new.
    enter_password(client, member.email, password)
    assert len(_mails()) == 1
    first = mailed_link(member.email)

    too_soon = post_form(client, "/login/enrol/email", {})
    assert too_soon.status_code == 429
    assert int(too_soon.headers["Retry-After"]) > 0
    assert "sent a moment ago" in alert_text(too_soon.get_data(as_text=True))
    assert len(_mails()) == 1

    [link] = _links(member.id)
    link.created_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    # Without the CSRF token: nothing sent.
    assert client.post("/login/enrol/email").status_code == 400
    assert len(_mails()) == 1
    again = post_form(client, "/login/enrol/email", {})
    assert again.status_code == 302 and again.headers["Location"] == "/login/enrol/email"
    assert "We have sent a new link." in client.get("/login/enrol/email").get_data(as_text=True)
    assert len(_mails()) == 2
    second = mailed_link(member.email)
    assert second != first
    # The older link stopped working.
    assert client.get(link_path(first)).status_code == 410
    assert client.get(link_path(second)).headers["Location"] == "/login/enrol"


def test_resending_is_rate_limited_per_address(client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    answers = [post_form(client, "/login/enrol/email", {}).status_code for _ in range(6)]
    assert answers == [429] * 6
    html = post_form(client, "/login/enrol/email", {}).get_data(as_text=True)
    assert h1(html) == "Check your email"
    assert "Too many attempts from your network" in alert_text(html)


def test_members_with_a_key_imported_are_not_asked_to_enrol(client, app_ctx):
    member, password, _key = make_member()
    response = enter_password(client, member.email, password)
    assert response.headers["Location"] == "/login/verify"
    assert _mails() == [] and _links(member.id) == []
    assert client.get("/login/enrol/email").headers["Location"] == "/login/verify"
