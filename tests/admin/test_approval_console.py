"""The approval queue, the consent screen preview, suspension and reinstatement, through /admin.

Every action is a form; every refusal is a ``role="alert"`` message with nothing
written, and every change an audit event that raises the client's version.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, PartnerNotification, Token
from idp.services import approval
from tests.admin.conftest import alert_text
from tests.login_flow import h1
from tests.oauth.conftest import redirect_params


def events(app, client_id: str, name: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.client_id == client_id, AuditEvent.event == name
                )
            )
        )


def notification_ids(app, client_pk: int) -> set[int]:
    with app.app_context():
        return set(
            db.session.scalars(
                select(PartnerNotification.id).where(PartnerNotification.client_id == client_pk)
            )
        )


def status_text(html: str) -> str:
    return html.split('role="status"')[1].split("</div>")[0] if 'role="status"' in html else ""


def test_the_queue_lists_waiting_clients_with_their_partner(console, operator):
    waiting = console.waiting_client("Sky Hotels", client_name="Sky Hotels Booking")
    draft = console.client("Draft Corp", client_name="Draft Site", approved=False)
    approved = console.client("Old Partner", client_name="Live Site")
    html = console.http.get("/admin").get_data(as_text=True)
    assert h1(html) == "Administration"
    assert "Sky Hotels Booking" in html and "Sky Hotels" in html
    assert "Draft Site" not in html and "Live Site" not in html
    assert f"/admin/clients/{waiting.client_id}/approve" in html
    assert draft.client_id not in html and approved.client_id not in html
    assert ">Approve</button>" in html and ">Reject</button>" in html
    assert '<label for="reject-' in html


def test_approve_lets_every_member_log_in(console, operator):
    rp = console.waiting_client()
    member = console.member()
    version = console.client_row(rp.client_id).version

    response = console.post(f"/admin/clients/{rp.client_id}/approve")
    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    page = console.http.get("/admin").get_data(as_text=True)
    assert "is approved" in status_text(page)
    client = console.client_row(rp.client_id)
    assert client.approval_status == "approved" and client.version > version
    (event,) = events(console.app, rp.client_id, "client.approved")
    assert event.member_id == operator

    console.login(member)
    code, _ = console.code(rp)
    assert console.exchange(rp, code).status_code == 200


def test_before_approval_a_member_is_refused(console, operator):
    rp = console.waiting_client()
    console.login(console.member())
    params = redirect_params(console.authorize(rp, state="s"))
    assert params["error"] == "access_denied"


def test_reject_with_a_reason(console, operator):
    rp = console.waiting_client()
    response = console.post(
        f"/admin/clients/{rp.client_id}/reject", {"reason": "The privacy policy link is broken."}
    )
    assert response.status_code == 302
    client = console.client_row(rp.client_id)
    assert client.approval_status == "rejected"
    assert client.rejection_reason == "The privacy policy link is broken."
    assert events(console.app, rp.client_id, "client.rejected")
    assert rp.client_id not in console.http.get("/admin").get_data(as_text=True)
    # Submitted again, it is back in the queue without the old reason.
    with console.app.app_context():
        approval.submit_for_approval(rp.client_id)
    assert console.client_row(rp.client_id).rejection_reason is None
    assert rp.client_id in console.http.get("/admin").get_data(as_text=True)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Give a reason."),
        ("   ", "Give a reason."),
        ("x" * 1001, "The reason is too long."),
        ("bad\x00text", "This holds characters that cannot be used."),
    ],
)
def test_reject_without_a_usable_reason_changes_nothing(console, operator, reason, message):
    rp = console.waiting_client()
    response = console.post(f"/admin/clients/{rp.client_id}/reject", {"reason": reason})
    assert response.status_code == 400
    assert message in alert_text(response.get_data(as_text=True))
    assert console.client_row(rp.client_id).approval_status == "waiting"
    assert not events(console.app, rp.client_id, "client.rejected")


def test_an_approved_client_cannot_be_rejected(console, operator):
    rp = console.client()
    response = console.post(f"/admin/clients/{rp.client_id}/reject", {"reason": "late"})
    assert response.status_code == 409
    assert "approved already" in alert_text(response.get_data(as_text=True))
    assert console.client_row(rp.client_id).approval_status == "approved"


@pytest.mark.parametrize("action", ["approve", "reject", "suspend", "reinstate"])
def test_an_unknown_client_is_a_form_message(console, operator, action):
    response = console.post(f"/admin/clients/no-such-client/{action}", {"reason": "why"})
    assert response.status_code == 404
    assert "No client with this id." in alert_text(response.get_data(as_text=True))


@pytest.mark.parametrize("action", ["approve", "reject", "suspend", "reinstate"])
def test_a_form_without_its_csrf_token_is_refused(console, operator, action):
    rp = console.waiting_client()
    response = console.http.post(f"/admin/clients/{rp.client_id}/{action}", data={"reason": "x"})
    assert response.status_code == 400
    client = console.client_row(rp.client_id)
    assert client.approval_status == "waiting" and not client.suspended


def test_the_preview_shows_the_consent_screen_in_four_languages(console, operator):
    rp = console.waiting_client(
        "Sky Hotels",
        scope="openid profile email card_number offline_access",
        purposes=["registration", "miles"],
    )
    page = console.http.get(f"/admin/clients/{rp.client_id}/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and h1(html) == "Consent screen preview"
    assert "Sky Hotels alone is responsible" in html
    assert "Allow access without time limit" in html
    # Where the data goes, as the member's screen says it: the registered redirect's host.
    host = urlsplit(rp.redirect_uri).hostname
    assert f'<p class="partner-band__domain">{host}</p>' in html
    texts = {
        "de": "Sky Hotels ist allein dafür verantwortlich",
        "nl": "Alleen Sky Hotels is verantwoordelijk",
        "pl": "odpowiada wyłącznie Sky Hotels",
    }
    for language, words in texts.items():
        html = console.http.get(
            f"/admin/clients/{rp.client_id}/preview?language={language}"
        ).get_data(as_text=True)
        assert words in html, language
        assert f'lang="{language}"' in html
    assert console.http.get(f"/admin/clients/{rp.client_id}/preview?language=xx").status_code == 200
    assert console.http.get("/admin/clients/nope/preview").status_code == 404


def test_suspend_revokes_every_token_and_notifies_the_partner(console, operator):
    rp = console.client(
        backchannel_logout_uri="https://partner.example/logout",
        security_event_uri="https://partner.example/events",
    )
    member = console.member()
    console.login(member)
    tokens = console.tokens(rp)
    version = console.client_row(rp.client_id).version

    console.login(operator)
    before = notification_ids(console.app, rp.pk)
    response = console.post(
        f"/admin/clients/{rp.client_id}/suspend",
        {"reason": "Phishing reports"},
        page="/admin/clients",
    )
    assert response.status_code == 302
    page = console.http.get("/admin/clients").get_data(as_text=True)
    assert "1 token(s) revoked, 2 notification(s)" in status_text(page)
    client = console.client_row(rp.client_id)
    assert client.suspended and client.suspension_reason == "Phishing reports"
    assert client.version > version
    with console.app.app_context():
        live = db.session.scalars(
            select(Token).where(Token.client_id == rp.pk, Token.revoked_at.is_(None))
        ).all()
        kinds = sorted(
            db.session.get(PartnerNotification, i).kind
            for i in notification_ids(console.app, rp.pk) - before
        )
    assert live == [] and kinds == ["backchannel_logout", "security_event"]
    (event,) = events(console.app, rp.client_id, "client.suspended")
    assert event.member_id == operator and event.details["tokens_revoked"] == 1

    # Refused everywhere: the token, client authentication, a new login.
    introspection = console.http.post(
        "/oauth/introspect", data={"token": tokens["access_token"]}, headers=rp.basic()
    )
    assert introspection.status_code == 401
    assert console.token(rp, grant_type="client_credentials").status_code == 401
    console.login(member)
    assert redirect_params(console.authorize(rp))["error"] == "access_denied"

    # Reinstated: members log in again (the revoked tokens stay revoked).
    console.login(operator)
    response = console.post(f"/admin/clients/{rp.client_id}/reinstate", page="/admin/clients")
    assert response.status_code == 302
    assert not console.client_row(rp.client_id).suspended
    assert events(console.app, rp.client_id, "client.reinstated")
    console.login(member)
    code, _ = console.code(rp)
    assert console.exchange(rp, code).status_code == 200


def test_suspend_needs_a_reason_and_twice_is_refused(console, operator):
    rp = console.client()
    response = console.post(f"/admin/clients/{rp.client_id}/suspend", {"reason": ""})
    assert response.status_code == 400 and "Give a reason." in alert_text(
        response.get_data(as_text=True)
    )
    assert not console.client_row(rp.client_id).suspended
    assert (
        console.post(f"/admin/clients/{rp.client_id}/suspend", {"reason": "abuse"}).status_code
        == 302
    )
    again = console.post(f"/admin/clients/{rp.client_id}/suspend", {"reason": "abuse"})
    assert again.status_code == 409
    assert "suspended already" in alert_text(again.get_data(as_text=True))
    assert len(events(console.app, rp.client_id, "client.suspended")) == 1


def test_reinstating_a_client_that_is_not_suspended_is_refused(console, operator):
    rp = console.client()
    response = console.post(f"/admin/clients/{rp.client_id}/reinstate")
    assert response.status_code == 409
    assert "is not suspended" in alert_text(response.get_data(as_text=True))
    assert not events(console.app, rp.client_id, "client.reinstated")


def test_the_clients_page_shows_every_status(console, operator):
    waiting = console.waiting_client("A Partner", client_name="Waiting Site")
    rejected = console.waiting_client("B Partner", client_name="Rejected Site")
    with console.app.app_context():
        approval.reject(rejected.client_id, "Missing terms")
    html = console.http.get("/admin/clients").get_data(as_text=True)
    assert h1(html) == "Clients"
    assert "Waiting for approval" in html and "Rejected" in html and "Missing terms" in html
    assert waiting.client_id in html and ">Suspend</button>" in html
