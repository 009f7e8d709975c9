"""The forgotten password: the request, the mailed link, the new password and the second factor."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from idp.config import ConfigError, load_settings
from idp.extensions import db
from idp.models import AccountLink, AuditEvent, Credential, OutgoingMail, SSOSession
from idp.models.types import utcnow
from idp.services import authentication
from idp.services.passwords import verify_password
from tests.factories import make_member
from tests.login_flow import (
    alert_text,
    csrf_token,
    enter_password,
    h1,
    link_path,
    log_in,
    mailed_link,
    post_form,
    totp_code,
)

NEW_PASSWORD = "a brand new passphrase"


def _mails(purpose: str) -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.purpose == purpose)))


def _events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def _password_hash(member_id: str) -> str:
    db.session.expire_all()
    return db.session.get(Credential, member_id).password_hash


def _links(member_id: str) -> list[AccountLink]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccountLink).where(AccountLink.member_id == member_id)))


def _live_sessions(member_id: str) -> list[SSOSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SSOSession).where(
                SSOSession.member_id == member_id, SSOSession.ended_at.is_(None)
            )
        )
    )


def _status(html: str) -> str:
    found = re.findall(r'role="status"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(" ".join(re.sub(r"<[^>]+>", " ", f).split()) for f in found)


def _ask_for_link(client, login: str):
    return post_form(client, "/login/forgot", {"login": login})


def _reset_link(client, member) -> str:
    assert _ask_for_link(client, member.email).status_code == 200
    return link_path(mailed_link(member.email, "password_reset"))


# -- the request -----------------------------------------------------------------------


def test_login_page_links_to_the_forgotten_password_page(client, app_ctx):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/login/forgot"' in html
    page = client.get("/login/forgot")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "Reset your password"
    assert '<label for="login">Email or card number</label>' in html
    assert re.search(r"<button[^>]*>Send reset link</button>", html)


def test_the_same_answer_whether_or_not_the_account_exists(client, app_ctx):
    member, _password, _key = make_member()
    known = _ask_for_link(client, member.email)
    unknown = _ask_for_link(client, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    known_html, unknown_html = known.get_data(as_text=True), unknown.get_data(as_text=True)
    assert "we have sent a link" in _status(known_html)
    assert _status(known_html) == _status(unknown_html)
    strip = re.compile(r'name="csrf_token"[^>]*value="[^"]+"')
    assert strip.sub("", known_html) == strip.sub("", unknown_html)
    # Only the known member gets a mail and a link, both audited without the login name.
    [sent] = _mails("password_reset")
    assert sent.recipient == member.email
    [link] = _links(member.id)
    assert link.purpose == "password_reset" and link.used_at is None
    assert link.expires_at - link.created_at == timedelta(minutes=30)
    events = _events("password_reset.requested")
    assert [e.member_id for e in events] == [member.id, None]
    assert "nobody-here" not in str([e.details for e in events])


def test_the_link_is_stored_hashed_only(client, app_ctx):
    member, _password, _key = make_member()
    path = _reset_link(client, member)
    token = path.rsplit("/", 1)[1]
    stored = db.session.execute(
        text("SELECT token_hash FROM account_links WHERE member_id = :id"), {"id": member.id}
    ).scalar_one()
    assert token not in stored and len(stored) == 64


def test_a_card_number_asks_for_a_link_too(client, app_ctx):
    member, _password, _key = make_member()
    assert _ask_for_link(client, member.card_number).status_code == 200
    assert [m.recipient for m in _mails("password_reset")] == [member.email]


def test_a_second_request_moments_later_sends_no_second_mail(client, app_ctx):
    member, _password, _key = make_member()
    first = _ask_for_link(client, member.email)
    second = _ask_for_link(client, member.email)
    assert first.status_code == second.status_code == 200
    assert _status(first.get_data(as_text=True)) == _status(second.get_data(as_text=True))
    assert len(_mails("password_reset")) == 1


def test_a_newer_link_retires_the_older_one(client, app_ctx, monkeypatch):
    member, _password, key = make_member()
    old = _reset_link(client, member)
    # A minute later, another request.
    [link] = _links(member.id)
    link.created_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    new = _reset_link(client, member)
    assert new != old
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200


def test_the_request_form_refuses_bad_input(client, app_ctx):
    assert post_form(client, "/login/forgot", {"login": ""}).status_code == 400
    response = post_form(client, "/login/forgot", {"login": "x" * 300})
    assert response.status_code == 400
    assert "longer than any email" in response.get_data(as_text=True)
    assert post_form(client, "/login/forgot", {"login": "a\x00b"}).status_code == 400
    # Without the CSRF token nothing is sent.
    member, _password, _key = make_member()
    response = client.post("/login/forgot", data={"login": member.email})
    assert response.status_code == 400
    assert _mails("password_reset") == [] and _links(member.id) == []


def test_requests_are_rate_limited_per_address(client, app_ctx):
    token = csrf_token(client.get("/login/forgot").get_data(as_text=True))
    answers = [
        client.post("/login/forgot", data={"login": f"n{i}@example.com", "csrf_token": token})
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    html = answers[-1].get_data(as_text=True)
    assert h1(html) == "Reset your password"
    assert "Too many attempts" in alert_text(html)


# -- the link --------------------------------------------------------------------------


def test_the_link_asks_for_a_new_password_and_the_second_factor(client, app_ctx):
    member, _password, _key = make_member()
    page = client.get(_reset_link(client, member))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert h1(html) == "Reset your password"
    assert '<label for="new_password">New password</label>' in html
    assert '<label for="code">Authentication code</label>' in html
    assert re.search(r"<button[^>]*>Set new password</button>", html)
    assert "?with=recovery" in html
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_reset_with_totp_sets_the_password_ends_sessions_and_kills_the_link(app, client, app_ctx):
    member, password, key = make_member()
    elsewhere = app.test_client()
    assert log_in(elsewhere, member.email, password, key).status_code == 302
    assert len(_live_sessions(member.id)) == 1
    path = _reset_link(client, member)

    response = post_form(
        client, path, {"new_password": NEW_PASSWORD, "code": totp_code(key, steps_ahead=1)}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your password has been changed" in _status(client.get("/login").get_data(as_text=True))
    assert verify_password(_password_hash(member.id), NEW_PASSWORD)
    assert _live_sessions(member.id) == []
    assert elsewhere.get("/account").status_code == 302
    [event] = _events("password.reset")
    assert event.member_id == member.id
    assert _events("session.ended_all")[0].details["reason"] == "password_reset"
    [notice] = _mails("password_changed")
    assert notice.recipient == member.email
    [link] = _links(member.id)
    assert link.used_at is not None
    # The link is dead; the old password no longer works, the new one does.
    assert client.get(path).status_code == 410
    wrong = enter_password(app.test_client(), member.email, password)
    assert wrong.status_code == 400
    assert enter_password(app.test_client(), member.email, NEW_PASSWORD).status_code == 302


def test_reset_with_a_recovery_code(client, app_ctx):
    member, _password, _key = make_member()
    codes = authentication.regenerate_recovery_codes(member)
    path = _reset_link(client, member)
    page = client.get(path + "?with=recovery").get_data(as_text=True)
    assert '<label for="code">Recovery code</label>' in page
    response = post_form(
        client,
        path + "?with=recovery",
        {"new_password": NEW_PASSWORD, "code": codes[0]},
    )
    assert response.status_code == 302
    assert verify_password(_password_hash(member.id), NEW_PASSWORD)
    assert [e.details for e in _events("recovery_code.used")] == [{"remaining": 9}]


def _nothing_changed(member, old_hash: str) -> None:
    assert _password_hash(member.id) == old_hash
    assert all(link.used_at is None for link in _links(member.id))
    assert _events("password.reset") == [] and _mails("password_changed") == []


def test_a_weak_password_is_refused_before_the_code_is_checked(client, app_ctx):
    member, _password, key = make_member()
    old_hash = _password_hash(member.id)
    path = _reset_link(client, member)
    response = post_form(client, path, {"new_password": "short", "code": totp_code(key)})
    assert response.status_code == 400
    assert "needs 10 to 256 characters" in alert_text(response.get_data(as_text=True))
    _nothing_changed(member, old_hash)
    # The code was not spent: it still works for the reset.
    response = post_form(client, path, {"new_password": NEW_PASSWORD, "code": totp_code(key)})
    assert response.status_code == 302


def test_a_wrong_code_changes_nothing_and_locks_after_the_threshold(app, client, app_ctx):
    member, _password, key = make_member()
    old_hash = _password_hash(member.id)
    path = _reset_link(client, member)
    wrong = "000000" if totp_code(key) != "000000" else "111111"
    for _attempt in range(4):
        response = post_form(client, path, {"new_password": NEW_PASSWORD, "code": wrong})
        assert response.status_code == 400
        assert "code is not right" in alert_text(response.get_data(as_text=True))
    locked = post_form(client, path, {"new_password": NEW_PASSWORD, "code": wrong})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in alert_text(locked.get_data(as_text=True))
    # Locked: even the right code is refused, unchecked, and nothing changes.
    right = post_form(client, path, {"new_password": NEW_PASSWORD, "code": totp_code(key)})
    assert right.status_code == 429
    _nothing_changed(member, old_hash)
    assert len(_events("login.second_factor_failed")) == 5
    assert _events("login.locked")


def test_a_used_totp_step_does_not_reset(app, client, app_ctx):
    member, password, key = make_member()
    code = totp_code(key)
    assert log_in(app.test_client(), member.email, password, key).status_code == 302
    old_hash = _password_hash(member.id)
    path = _reset_link(client, member)
    response = post_form(client, path, {"new_password": NEW_PASSWORD, "code": code})
    assert response.status_code == 400
    _nothing_changed(member, old_hash)


def test_bad_input_on_the_reset_form(client, app_ctx):
    member, _password, key = make_member()
    old_hash = _password_hash(member.id)
    path = _reset_link(client, member)
    for data in (
        {"new_password": "", "code": totp_code(key)},
        {"new_password": NEW_PASSWORD, "code": ""},
        {"new_password": "x" * 2000, "code": totp_code(key)},
        {"new_password": "a\x00b" * 5, "code": totp_code(key)},
        {"new_password": NEW_PASSWORD, "code": "1" * 40},
    ):
        response = post_form(client, path, data)
        assert response.status_code == 400, data
        assert alert_text(response.get_data(as_text=True)), data
    # Without the CSRF token.
    response = client.post(path, data={"new_password": NEW_PASSWORD, "code": totp_code(key)})
    assert response.status_code == 400
    _nothing_changed(member, old_hash)


def test_unknown_expired_and_used_links(client, app_ctx):
    member, _password, key = make_member()
    assert client.get("/login/reset/no-such-token").status_code == 404
    assert client.get("/login/reset/" + "x" * 500).status_code == 404
    response = post_form(
        client, "/login/reset/no-such-token", {"new_password": NEW_PASSWORD}, page="/login"
    )
    assert response.status_code == 404
    assert "not valid" in alert_text(response.get_data(as_text=True))

    path = _reset_link(client, member)
    html = client.get(path).get_data(as_text=True)
    [link] = _links(member.id)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    old_hash = _password_hash(member.id)
    expired = client.post(
        path,
        data={"new_password": NEW_PASSWORD, "code": totp_code(key), "csrf_token": csrf_token(html)},
    )
    assert expired.status_code == 410
    assert "has expired" in alert_text(expired.get_data(as_text=True))
    assert _password_hash(member.id) == old_hash
    assert _events("login.second_factor_passed") == []  # refused before the code


def test_an_enrolment_link_does_not_reset_a_password(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    enrolment = link_path(mailed_link(member.email))
    token = enrolment.rsplit("/", 1)[1]
    assert app.test_client().get(f"/login/reset/{token}").status_code == 404


# -- a member without a second factor ----------------------------------------------------


def test_a_member_without_a_second_factor_resets_then_enrols(client, app_ctx):
    member, _password, _none = make_member(totp=False)
    path = _reset_link(client, member)
    html = client.get(path).get_data(as_text=True)
    assert '<label for="new_password">New password</label>' in html
    assert 'for="code"' not in html
    response = post_form(client, path, {"new_password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login/enrol"
    assert verify_password(_password_hash(member.id), NEW_PASSWORD)
    enrol = client.get("/login/enrol").get_data(as_text=True)
    assert h1(enrol) == "Set up two-step verification"
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)</p>', enrol).group(1).replace(" ", "")
    done = post_form(client, "/login/enrol", {"code": totp_code(key)})
    assert done.status_code == 200
    assert h1(done.get_data(as_text=True)) == "Your recovery codes"
    assert len(_live_sessions(member.id)) == 1


def test_the_link_settings_have_defaults_and_a_bad_limit_is_refused(tmp_path):
    settings = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path)})
    assert settings.password_reset_seconds == settings.enrolment_link_seconds == 30 * 60
    assert settings.account_link_rate_limit == "5/minute;30/hour"
    with pytest.raises(ConfigError, match="account_link_rate_limit"):
        load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path)}, account_link_rate_limit="often")


def test_the_link_lifetime_follows_the_setting(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(
        app.config, "IDP", replace(app.config["IDP"], password_reset_seconds=5 * 60)
    )
    member, _password, _key = make_member()
    response = _ask_for_link(client, member.email)
    assert "works for 5 minutes" in _status(response.get_data(as_text=True))
    [link] = _links(member.id)
    assert link.expires_at - link.created_at == timedelta(minutes=5)
    assert "for 5 minutes" in _mails("password_reset")[0].body
