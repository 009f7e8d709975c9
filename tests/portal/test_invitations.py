"""Invitations of developers by email: a single-use link accepted by the logged-in member it
was sent to; a wrong member, an expired link or a used one adds nobody. And
``mam-idp partners add-developer``."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from idp.extensions import db
from idp.models import DeveloperInvitation, OutgoingMail, PartnerDeveloper
from idp.models.types import utcnow
from idp.services.registration import is_developer
from tests.factories import make_member, make_partner
from tests.login_flow import alert_text, h1

LINK = re.compile(r"http://127\.0\.0\.1:5000(/developers/invitation\?token=([A-Za-z0-9_-]+))")


def invitation_mail(app) -> OutgoingMail:
    with app.app_context():
        mail = db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.purpose == "developer_invitation")
        ).one()
        db.session.expunge(mail)
        return mail


def invite(portal, partner_id: str, email: str):
    return portal.post(f"/developers/partners/{partner_id}/invitations", {"email": email})


def accept(portal, path: str):
    """Press Accept invitation on the page the link opens."""
    token = path.split("token=", 1)[1]
    return portal.post("/developers/invitation", {"token": token}, page=path)


def email_of(portal, member_id: str) -> str:
    return portal.credentials[member_id][0]


@pytest.fixture
def invited(portal):
    """A developer invited a second member; the browser is logged out. (invitee, partner, path)"""
    _developer, partner_id = portal.developer()
    invitee = portal.member()
    response = invite(portal, partner_id, email_of(portal, invitee).upper())
    assert response.status_code == 302
    mail = invitation_mail(portal.app)
    path = LINK.search(mail.body).group(1)
    portal.http = portal.app.test_client()  # a browser of the invitee's, logged out
    return invitee, partner_id, path


def test_the_invitation_mail_carries_a_link_whose_token_is_stored_hashed(portal, invited):
    invitee, partner_id, path = invited
    mail = invitation_mail(portal.app)
    assert mail.recipient == email_of(portal, invitee).lower()
    assert "Sky Hotels" in mail.subject and "7 days" in mail.body
    token = path.split("token=", 1)[1]
    with portal.app.app_context():
        stored = db.session.scalar(select(DeveloperInvitation))
        assert stored.token_hash != token and token not in stored.token_hash
        raw = db.session.execute(text("SELECT email FROM developer_invitations")).scalar()
        assert "@" not in raw  # encrypted at rest
    (event,) = portal.events("partner.developer_invited")
    assert event.details["partner_id"] == partner_id


def test_the_invited_member_accepts_after_logging_in(portal, invited):
    invitee, partner_id, path = invited
    response = portal.http.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    portal.login(invitee)
    page = portal.http.get(path).get_data(as_text=True)
    assert h1(page) == "Invitation for developers" and "Sky Hotels" in page
    with portal.app.app_context():
        assert not is_developer(partner_id, invitee)  # following the link adds nobody
    response = accept(portal, path)
    assert response.status_code == 302 and response.headers["Location"] == "/developers"
    with portal.app.app_context():
        assert is_developer(partner_id, invitee)
    html = portal.http.get("/developers").get_data(as_text=True)
    assert "You now develop the clients of Sky Hotels." in html
    (event,) = portal.events("partner.invitation_accepted")
    assert event.member_id == invitee


def test_another_member_cannot_accept_it(portal, invited):
    invitee, partner_id, path = invited
    stranger = portal.member()
    portal.login(stranger)
    response = accept(portal, path)
    assert response.status_code == 409
    assert "for another email address" in alert_text(response.get_data(as_text=True))
    with portal.app.app_context():
        assert not is_developer(partner_id, stranger)
        assert db.session.scalar(select(DeveloperInvitation)).accepted_at is None
    # The invitee can still accept it.
    portal.login(invitee)
    assert accept(portal, path).status_code == 302


def test_an_expired_link_adds_nobody(portal, invited):
    invitee, partner_id, path = invited
    with portal.app.app_context():
        db.session.execute(
            update(DeveloperInvitation).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    portal.login(invitee)
    response = portal.http.get(path)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "has expired" in alert_text(html) and ">Accept invitation</button>" not in html
    response = portal.http.post(
        "/developers/invitation",
        data={"csrf_token": _token(portal), "token": path.split("token=", 1)[1]},
    )
    assert response.status_code == 409
    with portal.app.app_context():
        assert not is_developer(partner_id, invitee)


def test_a_used_link_works_once(portal, invited):
    invitee, _partner_id, path = invited
    portal.login(invitee)
    assert accept(portal, path).status_code == 302
    response = portal.http.post(
        "/developers/invitation",
        data={"csrf_token": _token(portal), "token": path.split("token=", 1)[1]},
    )
    assert response.status_code == 409
    assert "used already" in alert_text(response.get_data(as_text=True))
    assert len(portal.events("partner.invitation_accepted")) == 1


def test_a_made_up_link_is_not_found(portal):
    portal.login(portal.member())
    response = portal.http.get("/developers/invitation?token=not-a-real-token")
    assert response.status_code == 404
    assert "not valid" in alert_text(response.get_data(as_text=True))


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "two@@example.com"])
def test_a_bad_address_is_refused_next_to_the_field(portal, email):
    _developer, partner_id = portal.developer()
    response = invite(portal, partner_id, email)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter an email address." in html.split('id="email-error" role="alert">')[1]
    assert portal.count(DeveloperInvitation) == 0 and portal.count(OutgoingMail) == 0


def test_only_the_partners_developers_invite(portal):
    other = portal.client("Other Partner")
    portal.developer()
    response = invite(portal, other.partner_id, "someone@example.com")
    assert response.status_code == 404
    assert portal.count(DeveloperInvitation) == 0


def _token(portal) -> str:
    from tests.login_flow import csrf_token

    return csrf_token(portal.http.get("/account").get_data(as_text=True))


@pytest.mark.parametrize("how", ["id", "email", "card_number"])
def test_partners_add_developer_takes_an_id_email_or_card_number(app, runner, how):
    with app.app_context():
        member, _, _ = make_member()
        partner = make_partner("Sky Hotels", "partner_company")
        reference = {"id": member.id, "email": member.email, "card_number": member.card_number}
        member_id, partner_id = member.id, partner.id
    for _ in range(2):  # twice is the same developer
        result = runner.invoke(
            args=["partners", "add-developer", partner_id, reference[how], "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"partner_id": partner_id, "member_id": member_id}
    with app.app_context():
        rows = db.session.scalars(select(PartnerDeveloper).filter_by(partner_id=partner_id)).all()
        assert [r.member_id for r in rows] == [member_id]


def test_partners_add_developer_refusals(app, runner):
    with app.app_context():
        member, _, _ = make_member()
        partner = make_partner("Sky Hotels", "partner_company")
        member_id, partner_id = member.id, partner.id
    for args in (["no-such-partner", member_id], [partner_id, "nobody@example.com"]):
        result = runner.invoke(args=["partners", "add-developer", *args, "--json"])
        assert result.exit_code != 0
        assert "error" in json.loads(result.stdout)
    with app.app_context():
        assert db.session.scalars(select(PartnerDeveloper)).all() == []


def test_the_token_never_reaches_the_access_log(portal, invited, caplog):
    invitee, _partner_id, path = invited
    token = path.split("token=", 1)[1]
    portal.login(invitee)
    with caplog.at_level("INFO", logger="idp.access"):
        portal.http.get(path)
        accept(portal, path)
    lines = [record.getMessage() for record in caplog.records if record.name == "idp.access"]
    assert any("/developers/invitation" in line for line in lines)
    assert not any(token in line for line in lines)
