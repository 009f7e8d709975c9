"""A disabled account at the other login steps: a passkey, the mailed enrolment link.

The refusal comes only once the member proved who they are (the password, the
link and the password), with the same message as at the password step.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import OutgoingMail, SSOSession
from idp.services import member_status
from tests.factories import make_member
from tests.login_flow import (
    alert_text,
    enter_password,
    link_path,
    log_in,
    mailed_link,
    post_form,
)
from tests.test_passkeys import (
    LOGIN,
    add_passkey,
    assertion,
    authenticator,
    json_post,
    log_out_and_enter_password,
)

DISABLED = "Your Miles & More account has been disabled."


@pytest.fixture
def member(client, app_ctx):
    """A member with an authenticator app, logged in with it just now."""
    member, password, key = make_member()
    log_in(client, member.email, password, key)
    return member, password


def live_sessions(member_id: str) -> list[SSOSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SSOSession).where(
                SSOSession.member_id == member_id, SSOSession.ended_at.is_(None)
            )
        )
    )


def test_a_passkey_does_not_finish_the_login(client, member):
    member, password = member
    device = authenticator()
    assert add_passkey(client, device).status_code in (200, 201)
    log_out_and_enter_password(client, member, password)
    _options, credential = assertion(client, device)
    member_status.disable(member.id, "hijacking")
    response = json_post(client, LOGIN, {"credential": credential}, page="/login/verify")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert DISABLED in response.get_json()["detail"]
    assert live_sessions(member.id) == []


def test_the_enrolment_link_refuses_after_the_password(app, client, app_ctx):
    member, password, _none = make_member(totp=False)
    enter_password(client, member.email, password)
    path = link_path(mailed_link(member.email))
    member_status.disable(member.id, "other")

    phone = app.test_client()
    wrong = post_form(phone, path, {"password": "not the password"})
    assert wrong.status_code == 400
    assert DISABLED not in alert_text(wrong.get_data(as_text=True))
    right = post_form(phone, path, {"password": password})
    assert right.status_code == 403
    assert DISABLED in alert_text(right.get_data(as_text=True))
    assert phone.get("/login/enrol").status_code == 302  # no enrolment under way
    assert live_sessions(member.id) == []


def test_a_disabled_member_gets_no_enrolment_link_at_the_password_step(client, app_ctx):
    member, password, _none = make_member(totp=False)
    member_status.disable(member.id, "bulk-account")
    response = enter_password(client, member.email, password)
    assert response.status_code == 403
    assert DISABLED in alert_text(response.get_data(as_text=True))
    assert mailed_link_count(member.email) == 0


def mailed_link_count(address: str) -> int:
    rows = db.session.scalars(
        select(OutgoingMail.recipient).where(OutgoingMail.purpose == "enrolment_link")
    )
    return sum(1 for recipient in rows if recipient == address)
