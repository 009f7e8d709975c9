"""An operator disables a member account and enables it again (``mam-idp members``).

Through the CLI runner and the front door: the member's sessions end, tokens
die at UserInfo and the token endpoint, the login refuses the account only once
the password is right, and enabling lets the member log in again.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, Client, Credential, Member, PartnerNotification, SSOSession
from idp.services import sso
from tests.login_flow import (
    alert_text,
    enter_password,
    link_path,
    mailed_link,
    post_form,
    totp_code,
)
from tests.oauth.conftest import PKCE

SCOPE = "openid profile email offline_access"
DISABLED = "Your Miles & More account has been disabled."


def run(oauth, *args):
    return oauth.app.test_cli_runner().invoke(args=["members", *args])


def disable(oauth, member: str, reason: str = "hijacking"):
    result = run(oauth, "disable", member, "--reason", reason, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def email_of(oauth, member_id: str) -> str:
    return oauth.credentials[member_id][0]


def events(oauth, name: str, member_id: str) -> list[AuditEvent]:
    with oauth.app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.event == name, AuditEvent.member_id == member_id
                )
            )
        )


def userinfo(oauth, access_token: str):
    return oauth.http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def refresh(oauth, rp, refresh_token: str):
    return oauth.token(rp, grant_type="refresh_token", refresh_token=refresh_token)


def test_disable_ends_sessions_revokes_tokens_and_refuses_the_login(oauth, rp, member_id):
    sid = oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    assert userinfo(oauth, body["access_token"]).status_code == 200

    # By email address, as staff name a member.
    done = disable(oauth, email_of(oauth, member_id))
    assert done["member_id"] == member_id and done["disabled"] is True
    assert done["reason"] == "hijacking" and done["disabled_at"]
    assert done["sessions_ended"] == 1 and done["tokens_revoked"] == 1

    with oauth.app.app_context():
        assert db.session.get(SSOSession, sid).ended_at is not None
        member = db.session.get(Member, member_id)
        assert member.disabled_at is not None and member.disabled_reason == "hijacking"
    assert userinfo(oauth, body["access_token"]).status_code == 401
    answer = refresh(oauth, rp, body["refresh_token"])
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"
    assert oauth.http.get("/account").status_code == 302  # the browser is logged out

    # A wrong password learns nothing of the account's state.
    email, password, _ = oauth.credentials[member_id]
    wrong = enter_password(oauth.http, email, "not the password at all")
    assert wrong.status_code == 400
    assert DISABLED not in alert_text(wrong.get_data(as_text=True))
    right = enter_password(oauth.http, email, password)
    assert right.status_code == 403
    assert DISABLED in alert_text(right.get_data(as_text=True))
    with oauth.app.app_context():
        assert sso.live_sessions(member_id) == []
    (audited,) = events(oauth, "account.disabled", member_id)
    assert audited.details["reason"] == "hijacking"
    assert events(oauth, "login.refused_disabled", member_id)


def test_the_message_is_in_the_members_language(oauth, member_id):
    disable(oauth, member_id, "other")
    email, password, _ = oauth.credentials[member_id]
    html = post_form(
        oauth.http,
        "/login",
        {"login": email, "password": password},
        headers={"Accept-Language": "de"},
    ).get_data(as_text=True)
    assert "Ihr Miles & More Konto wurde gesperrt." in alert_text(html)


def test_a_login_under_way_is_refused_at_the_second_factor(oauth, member_id):
    email, password, key = oauth.credentials[member_id]
    assert enter_password(oauth.http, email, password).status_code == 302
    disable(oauth, member_id)
    response = post_form(oauth.http, "/login/verify", {"code": totp_code(key)})
    assert response.status_code == 403
    assert DISABLED in alert_text(response.get_data(as_text=True))
    with oauth.app.app_context():
        assert sso.live_sessions(member_id) == []
    # The pending login is gone: the second step starts over.
    assert oauth.http.get("/login/verify").status_code == 302


def test_a_password_reset_is_refused_and_changes_nothing(oauth, member_id):
    email, _, key = oauth.credentials[member_id]
    assert post_form(oauth.http, "/login/forgot", {"login": email}).status_code == 200
    with oauth.app.app_context():
        path = link_path(mailed_link(email, "password_reset"))
        before = db.session.get(Credential, member_id).password_hash
    disable(oauth, member_id)
    response = post_form(
        oauth.http, path, {"new_password": "a brand new passphrase", "code": totp_code(key)}
    )
    assert response.status_code == 403
    assert DISABLED in alert_text(response.get_data(as_text=True))
    with oauth.app.app_context():
        assert db.session.get(Credential, member_id).password_hash == before


def test_a_code_issued_before_is_not_exchanged(oauth, rp, member_id):
    oauth.login(member_id)
    pkce = PKCE.new()
    code, _ = oauth.code(
        rp, scope=SCOPE, code_challenge=pkce.challenge, code_challenge_method="S256"
    )
    disable(oauth, member_id)
    answer = oauth.exchange(rp, code, code_verifier=pkce.verifier)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"


def test_enable_lets_the_member_log_in_again_and_old_tokens_stay_dead(oauth, rp, member_id):
    oauth.login(member_id)
    body = oauth.tokens(rp, scope=SCOPE)
    with oauth.app.app_context():
        card_number = db.session.get(Member, member_id).card_number
    disable(oauth, card_number, "bulk-account")

    result = run(oauth, "enable", card_number, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "member_id": member_id,
        "disabled": False,
        "partners_notified": 0,
    }
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        assert member.disabled_at is None and member.disabled_reason is None
    assert events(oauth, "account.enabled", member_id)
    assert userinfo(oauth, body["access_token"]).status_code == 401
    assert refresh(oauth, rp, body["refresh_token"]).status_code == 400

    oauth.login(member_id)
    again = oauth.tokens(rp, scope=SCOPE)
    assert userinfo(oauth, again["access_token"]).status_code == 200


def test_disabling_twice_or_enabling_an_enabled_account_is_refused(oauth, member_id):
    not_disabled = run(oauth, "enable", member_id, "--json")
    assert not_disabled.exit_code == 1
    assert json.loads(not_disabled.stdout)["error"] == "conflict"
    assert events(oauth, "account.enabled", member_id) == []

    disable(oauth, member_id)
    with oauth.app.app_context():
        first = db.session.get(Member, member_id).disabled_at
    twice = run(oauth, "disable", member_id, "--reason", "other", "--json")
    assert twice.exit_code == 1
    assert json.loads(twice.stdout) == {
        "error": "conflict",
        "error_description": "This member account is disabled already.",
        "field": "member",
    }
    with oauth.app.app_context():
        member = db.session.get(Member, member_id)
        assert member.disabled_at == first and member.disabled_reason == "hijacking"
    assert len(events(oauth, "account.disabled", member_id)) == 1

    # Without --json: the message on stderr, still exit 1.
    plain = run(oauth, "disable", member_id, "--reason", "other")
    assert plain.exit_code == 1 and "disabled already" in plain.stderr


@pytest.mark.parametrize(
    "args, status, error",
    [
        (["disable", "no-such-member", "--reason", "other"], 1, "not_found"),
        (["disable", "9" * 200, "--reason", "other"], 1, "not_found"),
        (["enable", "nobody@example.com"], 1, "not_found"),
        (["disable", "MEMBER", "--reason", "bored"], 2, "usage"),
        (["disable", "MEMBER"], 2, "usage"),
    ],
)
def test_bad_input_is_refused(oauth, member_id, args, status, error):
    args = [member_id if a == "MEMBER" else a for a in args]
    result = run(oauth, *args, "--json")
    assert result.exit_code == status
    assert json.loads(result.stdout)["error"] == error
    with oauth.app.app_context():
        assert db.session.get(Member, member_id).disabled_at is None


def test_partners_get_a_back_channel_logout_for_the_ended_session(oauth, rp, member_id):
    with oauth.app.app_context():
        db.session.get(Client, rp.pk).backchannel_logout_uri = "https://partner.example/bcl"
        db.session.commit()
    sid = oauth.login(member_id)
    oauth.tokens(rp, scope=SCOPE)
    disable(oauth, member_id)
    with oauth.app.app_context():
        (queued,) = db.session.scalars(
            select(PartnerNotification).where(PartnerNotification.kind == "backchannel_logout")
        ).all()
        assert queued.url == "https://partner.example/bcl"
        (ended,) = events(oauth, "session.ended_all", member_id)
        assert ended.details["reason"] == "account_disabled" and ended.details["count"] == 1
        assert db.session.get(SSOSession, sid).ended_at is not None
