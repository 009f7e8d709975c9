"""The operator console shows each stream's delivery: status, last delivery, failures, waiting."""

from __future__ import annotations

import re

from idp.extensions import db
from idp.models import Client, Member
from idp.services import notifications
from tests.admin.conftest import Console, text_of
from tests.receiver import free_port
from tests.ssf.conftest import PUSH, SSF, TOKEN_REVOKED


class StreamConsole(Console, SSF):
    pass


def stream_rows(html: str) -> list[str]:
    table = re.search(r'<table class="console-table" id="ssf-streams">(.*?)</table>', html, re.S)
    assert table, "no stream table on the page"
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)][1:]


def test_stream_delivery_status_per_partner(app, client):
    console = StreamConsole(app, client)
    polled = console.client("Sky Hotels", scope="openid profile", purposes=["registration"])
    pushed = console.client("Sky Hotels", scope="openid profile", purposes=["registration"])
    with console.app.app_context():
        # Same partner: both clients belong to the first "Sky Hotels".
        db.session.get(Client, pushed.pk).partner_id = polled.partner_id
        db.session.get(Client, pushed.pk).client_name = "Sky Hotels App"
        db.session.commit()
    poll_token = console.access_token(polled)
    stream_id = console.create(poll_token, events_requested=[TOKEN_REVOKED])["stream_id"]
    console.call("POST", "verification_endpoint", poll_token, {"stream_id": stream_id})
    console.call(
        "POST", "status_endpoint", poll_token, {"stream_id": stream_id, "status": "paused"}
    )
    push_token = console.access_token(pushed)
    closed = f"http://127.0.0.1:{free_port()}/nobody"
    push_id = console.create(push_token, delivery={"method": PUSH, "endpoint_url": closed})[
        "stream_id"
    ]
    console.call("POST", "verification_endpoint", push_token, {"stream_id": push_id})
    with console.app.app_context():
        assert notifications.deliver_due()["failed"] == 1
        db.session.rollback()

    console.operator()
    html = console.http.get(f"/admin/partners/{polled.partner_id}/notifications").get_data(
        as_text=True
    )
    rows = stream_rows(html)
    assert len(rows) == 2
    (poll_row,) = [r for r in rows if " Poll " in r]
    assert "Paused" in poll_row
    assert poll_row.split()[-2] == "1"  # the verification event waits, held
    (push_row,) = [r for r in rows if " Push " in r]
    assert "Enabled" in push_row and closed in push_row and "ConnectionError" in push_row
    assert push_row.split()[-3] == "1"  # one failed delivery, being retried


def test_the_stream_table_is_translated(app, client):
    console = StreamConsole(app, client)
    rp = console.client("Sky Hotels", scope="openid profile", purposes=["registration"])
    with console.app.app_context():
        db.session.get(Client, rp.pk).security_event_uri = "https://partner.example/events"
        db.session.commit()
    operator_id = console.operator()
    with console.app.app_context():
        db.session.get(Member, operator_id).locale = "de"
        db.session.commit()
    html = console.http.get(f"/admin/partners/{rp.partner_id}/notifications").get_data(as_text=True)
    assert "Shared-Signals-Streams" in html
    (row,) = stream_rows(html)
    assert "Aktiv" in row
