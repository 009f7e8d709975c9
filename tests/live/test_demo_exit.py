"""Ctrl+C stops ``mam-idp demo`` within seconds, even while a partner is slow to answer.

A notification is delivered in a background thread after the event that caused
it commits. Here the demo partner's Security Event receiver is an endpoint that
takes the request and then answers one byte at a time, so the delivery is still
under way when Ctrl+C arrives, and stays so for minutes (each read gets a byte
well within the delivery timeout). The demo must exit promptly all the same,
with status 0; the notification stays in the outbox for ``mam-idp worker``.
"""

from __future__ import annotations

import signal
import sqlite3
import time

import pytest
import requests

from tests.live.journey import allow, log_in
from tests.live.server import SCRIPT, end_process_group, live_demo
from tests.login_flow import csrf_token, totp_code
from tests.receiver import SlowReceiver

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

#: Seconds the demo may take from Ctrl+C to its exit (the grace it gives a delivery is 2 s).
EXIT_WITHIN = 8


def test_ctrl_c_stops_the_demo_while_a_notification_to_a_slow_partner_is_under_way(tmp_path):
    with SlowReceiver() as receiver, live_demo(tmp_path) as demo:
        printed = demo.credentials()
        with sqlite3.connect(tmp_path / "instance" / "idp.sqlite3") as database:
            database.execute(
                "UPDATE clients SET security_event_uri = ? WHERE client_id = ?",
                (receiver.url, printed["client_id"]),
            )
            (partner_id,) = database.execute(
                "SELECT partner_id FROM clients WHERE client_id = ?", (printed["client_id"],)
            ).fetchone()
        database.close()
        with requests.Session() as member:
            login_page = member.post(demo.partner_url + "/login", timeout=10)
            consent = log_in(
                member,
                login_page,
                printed["Email"],
                printed["Password"],
                totp_code(printed["TOTP key"]),
            )
            assert allow(member, consent).url == demo.partner_url + "/"
            # Revoking on Connected apps queues the withdrawal notice for the receiver.
            revoke = f"{demo.url}/account/apps/{partner_id}/revoke"
            page = member.get(revoke, timeout=10)
            assert page.status_code == 200, page.text[:500]
            revoked = member.post(revoke, data={"csrf_token": csrf_token(page.text)}, timeout=10)
            assert revoked.status_code == 200 and "/account/apps" in revoked.url
        assert receiver.reached.wait(15), demo.output()[-5000:]

        started = time.monotonic()
        status = end_process_group(demo.process, signal.SIGINT, EXIT_WITHIN)
        took = time.monotonic() - started
        assert status == 0, (status, demo.output()[-5000:])
        assert took < EXIT_WITHIN, took
    assert "Traceback" not in demo.output()
