"""Partner notifications with ``Retry now``, the audit log search and its exports, on /admin."""

from __future__ import annotations

import csv
import io
import json

import pytest

from idp.extensions import db
from idp.models import PartnerNotification
from idp.services import notifications
from idp.services.approval import find_client
from tests.admin.conftest import alert_text
from tests.login_flow import h1
from tests.receiver import running_receiver


def queue_logout(app, client_id: str, url: str) -> int:
    with app.app_context():
        client = find_client(client_id)
        row = notifications.queue(
            client, "backchannel_logout", {"iss": "x", "aud": client_id, "sid": "s"}, url=url
        )
        db.session.commit()
        return row.id


def notification(app, notification_id: int) -> PartnerNotification:
    with app.app_context():
        row = db.session.get(PartnerNotification, notification_id)
        db.session.expunge(row)
        return row


def test_notifications_per_partner_with_their_delivery(console, operator):
    rp = console.client("Sky Hotels")
    with running_receiver() as receiver:
        receiver.script = [503]
        note = queue_logout(console.app, rp.client_id, receiver.url)
        with console.app.app_context():
            assert notifications.deliver(note).status == "failed"
        page = console.http.get(f"/admin/partners/{rp.partner_id}/notifications")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and h1(html) == "Partner notifications"
        assert "Back-channel logout" in html and "Retrying" in html and "HTTP 503" in html
        assert ">Retry now</button>" in html

        response = console.post(
            f"/admin/partners/{rp.partner_id}/notifications/{note}/retry",
            page=f"/admin/partners/{rp.partner_id}/notifications",
        )
        assert response.status_code == 302
        assert len(receiver.deliveries) == 2
    row = notification(console.app, note)
    assert row.delivered_at is not None and row.attempts == 2
    html = console.http.get(f"/admin/partners/{rp.partner_id}/notifications").get_data(as_text=True)
    assert "The notification was delivered." in html and "Delivered" in html
    assert ">Retry now</button>" not in html


def test_an_abandoned_notification_can_be_retried(console, operator):
    rp = console.client()
    with running_receiver() as receiver:
        note = queue_logout(console.app, rp.client_id, receiver.url)
        with console.app.app_context():
            db.session.get(PartnerNotification, note).abandoned_at = db.func.now()
            db.session.get(PartnerNotification, note).attempts = 8
            db.session.commit()
        assert "Abandoned" in console.http.get(
            f"/admin/partners/{rp.partner_id}/notifications"
        ).get_data(as_text=True)
        response = console.post(
            f"/admin/partners/{rp.partner_id}/notifications/{note}/retry",
            page=f"/admin/partners/{rp.partner_id}/notifications",
        )
        assert response.status_code == 302 and len(receiver.deliveries) == 1
    assert notification(console.app, note).delivered_at is not None


def test_a_failed_retry_is_an_alert(console, operator):
    rp = console.client()
    with running_receiver() as receiver:
        receiver.script = [500]
        note = queue_logout(console.app, rp.client_id, receiver.url)
        console.post(
            f"/admin/partners/{rp.partner_id}/notifications/{note}/retry",
            page=f"/admin/partners/{rp.partner_id}/notifications",
        )
    html = console.http.get(f"/admin/partners/{rp.partner_id}/notifications").get_data(as_text=True)
    assert "did not accept the notification" in alert_text(html)
    assert notification(console.app, note).last_error == "HTTP 500"


def test_retry_refusals_are_form_messages(console, operator):
    rp = console.client("Sky Hotels")
    other = console.client("Other Partner")
    with running_receiver() as receiver:
        note = queue_logout(console.app, rp.client_id, receiver.url)
        page = f"/admin/partners/{rp.partner_id}/notifications"
        # Another partner's notification is not found under this partner.
        response = console.post(
            f"/admin/partners/{other.partner_id}/notifications/{note}/retry", page=page
        )
        assert response.status_code == 404
        assert "No such notification" in alert_text(response.get_data(as_text=True))
        assert (
            console.post(
                f"/admin/partners/{rp.partner_id}/notifications/{note}/retry", page=page
            ).status_code
            == 302
        )
        again = console.post(
            f"/admin/partners/{rp.partner_id}/notifications/{note}/retry", page=page
        )
        assert again.status_code == 409
        assert "delivered already" in alert_text(again.get_data(as_text=True))
        assert len(receiver.deliveries) == 1
    unknown = console.post("/admin/partners/nope/notifications/1/retry", page=page)
    assert unknown.status_code == 404
    assert console.http.get("/admin/partners/nope/notifications").status_code == 404
    missing = console.http.get("/admin/notifications?partner_id=nope")
    assert missing.status_code == 404 and "No partner" in alert_text(missing.get_data(as_text=True))
    chosen = console.http.get(f"/admin/notifications?partner_id={rp.partner_id}")
    assert chosen.headers["Location"] == page


def _audit(console, **query):
    return console.http.get("/admin/audit", query_string=query)


def found(console, **query) -> str:
    """The events table of an audit search."""
    html = _audit(console, **query).get_data(as_text=True)
    return html.split("<tbody>")[1] if "<tbody>" in html else ""


def test_the_audit_log_is_searched_by_member_partner_client_event_and_time(console, operator):
    rp = console.waiting_client("Sky Hotels")
    other = console.waiting_client("Other Partner")
    member = console.member()
    console.login(member)
    console.login(operator)
    console.post(f"/admin/clients/{rp.client_id}/approve")
    console.post(f"/admin/clients/{other.client_id}/reject", {"reason": "no"})

    assert h1(_audit(console).get_data(as_text=True)) == "Audit log"
    html = found(console, client_id=rp.client_id)
    assert "client.approved" in html and "client.rejected" not in html

    html = found(console, partner_id=other.partner_id)
    assert "client.rejected" in html and "partner.created" in html
    assert "client.approved" not in html

    html = found(console, event="client.")
    assert "client.approved" in html and "client.rejected" in html and "login." not in html

    with console.app.app_context():
        email = console.credentials[member][0]
    html = found(console, member=email, event="login.succeeded")
    assert member in html and operator not in html

    html = _audit(console, since="2000-01-01", until="2000-01-02").get_data(as_text=True)
    assert "No event matches." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"member": "nobody@example.com"}, "No member with this id"),
        ({"since": "2026-13-01"}, "Not a valid date value"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "The first day is after the last."),
        ({"partner_id": "no-such-partner"}, "Not a valid choice"),
        ({"format": "xml"}, "Export as CSV or JSON."),
        ({"event": "x" * 65}, "Field cannot be longer than 64 characters."),
        ({"client_id": "a\x00b"}, "cannot be used"),
    ],
)
def test_bad_audit_searches_are_form_messages(console, operator, query, message):
    response = _audit(console, **query)
    assert response.status_code == 400
    assert message in alert_text(response.get_data(as_text=True))


def test_the_audit_log_exports_as_csv_and_json(console, operator):
    rp = console.waiting_client("Sky Hotels")
    console.post(f"/admin/clients/{rp.client_id}/reject", {"reason": "=HYPERLINK(1)"})

    response = _audit(console, client_id=rp.client_id, format="json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    body = json.loads(response.get_data(as_text=True))
    names = [e["event"] for e in body["events"]]
    assert names == ["client.rejected", "client.submitted", "client.registered"]
    assert body["events"][0]["member_id"] == operator

    response = _audit(console, client_id=rp.client_id, format="csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["event"] for r in rows] == names
    assert set(rows[0]) == {
        "occurred_at",
        "event",
        "member_id",
        "client_id",
        "ip_address",
        "details",
    }

    refused = _audit(console, since="nonsense", format="csv")
    assert refused.status_code == 400 and refused.mimetype == "text/html"


@pytest.mark.parametrize("notification_id", ["abc", "0", "99999999999999999999999", "٣"])
def test_a_notification_id_that_is_no_number_is_a_form_message(console, operator, notification_id):
    rp = console.client()
    response = console.post(
        f"/admin/partners/{rp.partner_id}/notifications/{notification_id}/retry",
        page=f"/admin/partners/{rp.partner_id}/notifications",
    )
    assert response.status_code == 404
    assert "No such notification" in alert_text(response.get_data(as_text=True))
