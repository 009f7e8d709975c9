"""``mam-idp worker`` as operators run it: real processes, a local SMTP server, a partner.

Mail goes to an SMTP sink on 127.0.0.1 and partner notifications to a local
HTTP receiver; the provider's database is a fresh SQLite file or PostgreSQL
schema per test.
"""

from __future__ import annotations

import re
import signal
import time

import pyotp
import pytest
import requests
from joserfc import jwt
from sqlalchemy import select

from idp.extensions import db
from idp.models import OutgoingMail, PartnerNotification
from idp.services import notifications, signing_keys
from idp.services.mail import queue_mail
from tests.factories import make_client
from tests.live.server import SCRIPT, LiveProvider, live_provider
from tests.login_flow import csrf_token
from tests.receiver import running_receiver
from tests.smtp_sink import running_smtp_sink

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

WORKER = ("worker", "--interval", "0.5")


@pytest.fixture
def sink():
    with running_smtp_sink() as server:
        yield server


@pytest.fixture
def receiver():
    with running_receiver() as partner:
        yield partner


@pytest.fixture
def provider(tmp_path, backend, redis_url, sink):
    """A migrated database whose settings send mail to the sink; no server started."""
    live = LiveProvider(tmp_path, backend, redis_url, IDP_SMTP_URL=sink.url)
    try:
        live.migrate()
        app = live.app()
        # Only the worker delivers here; the app's own background threads stay out.
        app.config["NOTIFICATIONS_IN_BACKGROUND"] = False
        with app.app_context():
            signing_keys.ensure_keys()
            db.session.commit()
        yield live
    except BaseException:
        print(live.output()[-20000:])
        raise
    finally:
        live.close()


def _partner_client(app):
    with app.app_context():
        client, _secret = make_client()
        return client.id


def _queue_notifications(app, client_pk: int, url: str, sids: list[str]) -> list[int]:
    from idp.models import Client

    with app.app_context():
        client = db.session.get(Client, client_pk)
        rows = [
            notifications.queue(client, "backchannel_logout", {"sid": s}, url=url) for s in sids
        ]
        db.session.commit()
        return [row.id for row in rows]


def _queue_mails(app, recipients: list[str]) -> None:
    with app.app_context():
        for recipient in recipients:
            queue_mail(recipient, "Your Miles & More login code", "Code: 123456", "email_code")
        db.session.commit()


def _logout_sids(app, deliveries) -> list[str]:
    """The ``sid`` of each delivered logout token, verified with the provider's keys."""
    with app.app_context():
        public = signing_keys.public_key_set()
        db.session.rollback()
    return [jwt.decode(d.form["logout_token"], public).claims["sid"] for d in deliveries]


def _rows(app, model):
    with app.app_context():
        rows = db.session.scalars(select(model).order_by(model.id)).all()
        db.session.expunge_all()
        db.session.rollback()
        return rows


def test_a_members_email_code_arrives_within_seconds(tmp_path, backend, redis_url, sink):
    with live_provider(tmp_path, backend, redis_url, IDP_SMTP_URL=sink.url) as provider:
        worker = provider.spawn("worker")  # the default interval, as operators run it
        worker.wait_for_output("worker started")
        created = provider.run(
            "members",
            "create",
            "--json",
            "--email",
            "jan@example.com",
            "--password",
            "correct horse battery",
            "--given-name",
            "Jan",
            "--family-name",
            "Kowalski",
            "--totp-secret",
            pyotp.random_base32(),
        )
        assert created.returncode == 0, created.stderr
        browser = requests.Session()
        page = browser.get(provider.url + "/login", timeout=10).text
        answer = browser.post(
            provider.url + "/login",
            data={
                "login": "jan@example.com",
                "password": "correct horse battery",
                "csrf_token": csrf_token(page),
            },
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        page = browser.get(provider.url + "/login/verify/email", timeout=10).text
        asked = time.monotonic()
        sent = browser.post(
            provider.url + "/login/verify/email/send",
            data={"csrf_token": csrf_token(page)},
            allow_redirects=False,
            timeout=10,
        )
        assert sent.status_code == 302, sent.text
        [message] = sink.wait_for(1, timeout=10)
        took = time.monotonic() - asked
        assert took < 5, f"the code took {took:.1f} s"
        assert message["To"] == "jan@example.com"
        assert message["Subject"] == "Your Miles & More login code"
        code = re.search(r"^\s+(\d{6})\s*$", message.get_content(), re.M).group(1)

        page = browser.get(provider.url + "/login/verify/email", timeout=10).text
        verified = browser.post(
            provider.url + "/login/verify/email",
            data={"code": code, "csrf_token": csrf_token(page)},
            allow_redirects=False,
            timeout=10,
        )
        assert verified.status_code == 302, verified.text
        assert "mam_session" in browser.cookies
        assert worker.stop() == 0
        log = worker.output()
        # Identifiers and outcomes only: never the address, the code or the SMTP password.
        assert "sent" in log and code not in log and "jan@example.com" not in log


def test_notifications_are_delivered_and_a_restart_sends_what_waited(provider, receiver, sink):
    app = provider.app()
    client_pk = _partner_client(app)
    worker = provider.spawn(*WORKER)
    worker.wait_for_output("worker started")
    _queue_notifications(app, client_pk, receiver.url, ["first"])
    assert _logout_sids(app, receiver.wait_for(1, timeout=10)) == ["first"]

    started = time.monotonic()
    assert worker.stop() == 0
    assert time.monotonic() - started < 5
    assert "worker stopped" in worker.output()

    # Nobody sends while no worker runs...
    _queue_notifications(app, client_pk, receiver.url, ["second", "third"])
    _queue_mails(app, ["ewa@example.com"])
    time.sleep(1.5)
    assert len(receiver.deliveries) == 1 and sink.messages == []

    # ...and the next worker picks up everything that waited.
    restarted = provider.spawn(*WORKER)
    assert sorted(_logout_sids(app, receiver.wait_for(3, timeout=10))[1:]) == ["second", "third"]
    assert [m["To"] for m in sink.wait_for(1, timeout=10)] == ["ewa@example.com"]
    assert restarted.stop() == 0
    assert all(row.delivered_at for row in _rows(app, PartnerNotification))
    assert all(row.sent_at and row.attempts == 1 for row in _rows(app, OutgoingMail))


def test_sigterm_lets_the_delivery_in_hand_finish(provider, receiver):
    app = provider.app()
    client_pk = _partner_client(app)
    receiver.delays = [2.0]  # the partner answers the first delivery slowly
    first, second = _queue_notifications(app, client_pk, receiver.url, ["slow", "next"])
    worker = provider.spawn(*WORKER)
    receiver.wait_for(1, timeout=15)  # the worker is now waiting for the partner
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=10) == 0
    rows = {row.id: row for row in _rows(app, PartnerNotification)}
    assert rows[first].delivered_at is not None  # finished, not abandoned mid-request
    assert rows[second].delivered_at is None and rows[second].attempts == 0
    assert len(receiver.deliveries) == 1
    assert "worker stopped" in worker.output()


def test_sigint_stops_an_idle_worker_at_once(provider):
    worker = provider.spawn("worker", "--interval", "30")
    worker.wait_for_output("worker started")
    started = time.monotonic()
    worker.signal(signal.SIGINT)
    assert worker.wait(timeout=10) == 0
    assert time.monotonic() - started < 3
    assert "Traceback" not in worker.output()


def test_two_workers_never_send_the_same_mail_or_notification_twice(provider, receiver, sink):
    app = provider.app()
    client_pk = _partner_client(app)
    recipients = [f"member{i}@example.com" for i in range(40)]
    sids = [f"sid-{i}" for i in range(20)]
    _queue_mails(app, recipients)
    _queue_notifications(app, client_pk, receiver.url, sids)
    workers = [provider.spawn(*WORKER), provider.spawn(*WORKER)]
    messages = sink.wait_for(40, timeout=30)
    deliveries = receiver.wait_for(20, timeout=30)
    time.sleep(1.5)  # time for any second delivery to show up
    assert [w.stop() for w in workers] == [0, 0]
    assert len(sink.messages) == 40 and len(receiver.deliveries) == 20
    assert sorted(m["To"] for m in messages) == sorted(recipients)
    assert sorted(_logout_sids(app, deliveries)) == sorted(sids)
    assert all(row.attempts == 1 for row in _rows(app, PartnerNotification))
    assert all(row.attempts == 1 and row.sent_at for row in _rows(app, OutgoingMail))


def test_the_apps_background_delivery_and_a_worker_send_each_notification_once(provider, receiver):
    app = provider.app()
    client_pk = _partner_client(app)
    worker = provider.spawn(*WORKER)
    worker.wait_for_output("worker started")
    app.config["NOTIFICATIONS_IN_BACKGROUND"] = True  # as in a web process
    sids = [f"both-{i}" for i in range(12)]
    for batch in (sids[:6], sids[6:]):
        _queue_notifications(app, client_pk, receiver.url, batch)
        time.sleep(0.5)
    deliveries = receiver.wait_for(12, timeout=20)
    time.sleep(1.5)
    assert worker.stop() == 0
    assert len(receiver.deliveries) == 12
    assert sorted(_logout_sids(app, deliveries)) == sorted(sids)


def test_worker_without_smtp_delivers_notifications_and_keeps_mail(
    tmp_path, backend, redis_url, receiver
):
    provider = LiveProvider(tmp_path, backend, redis_url)
    try:
        provider.migrate()
        app = provider.app()
        app.config["NOTIFICATIONS_IN_BACKGROUND"] = False
        client_pk = _partner_client(app)
        _queue_mails(app, ["anna@example.com"])
        _queue_notifications(app, client_pk, receiver.url, ["only"])
        worker = provider.spawn(*WORKER)
        receiver.wait_for(1, timeout=15)
        time.sleep(1)
        assert worker.stop() == 0
        log = worker.output()
        assert log.count("IDP_SMTP_URL is not set") == 1
        [mail] = _rows(app, OutgoingMail)
        assert mail.sent_at is None and mail.attempts == 0
    finally:
        provider.close()


def test_a_malformed_smtp_url_stops_the_worker_before_it_polls(tmp_path, backend, redis_url):
    provider = LiveProvider(tmp_path, backend, redis_url, IDP_SMTP_URL="mail.example:25")
    try:
        done = provider.run("worker")
        assert done.returncode == 78, done.stderr
        assert "IDP_SMTP_URL" in done.stderr and "Traceback" not in done.stderr
    finally:
        provider.close()


def test_worker_once_for_scripts(provider, sink):
    _queue_mails(provider.app(), ["piet@example.com"])
    done = provider.run("worker", "--once")
    assert done.returncode == 0, done.stderr
    assert [m["To"] for m in sink.wait_for(1, timeout=1)] == ["piet@example.com"]


def test_a_command_tries_the_notifications_it_queued_before_it_exits(backend, redis_url, tmp_path):
    """The delivery threads are daemon threads; the command waits for what it queued."""
    from tests.factories import issue_token, make_consent, make_member, make_partner

    provider = LiveProvider(tmp_path, backend, redis_url)
    try:
        provider.migrate()
        with running_receiver() as receiver:
            with provider.app().app_context():
                client, _secret = make_client(make_partner(), security_event_uri=receiver.url)
                member, _password, _key = make_member()
                issue_token(member, client, "openid profile", consent=make_consent(member, client))
                member_id, partner_id = member.id, client.partner_id
                db.session.remove()
            done = provider.run(
                "members", "withdraw-consent", member_id, "--partner-id", partner_id
            )
            assert done.returncode == 0, done.stdout + done.stderr
            # Sent before the command ended, not left to a worker.
            assert len(receiver.deliveries) == 1, done.stderr
    finally:
        provider.close()
