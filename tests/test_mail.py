"""The mail outbox and its SMTP drain (``mam-idp mail send``), against a local SMTP sink."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, text

from idp.extensions import db
from idp.models import OutgoingMail
from idp.models.types import utcnow
from idp.services.errors import InvalidInput
from idp.services.mail import parse_smtp_url, queue_mail, send_pending
from tests.smtp_sink import running_smtp_sink

SENDER = "no-reply@login.miles-and-more.example"


@pytest.fixture
def smtp_sink():
    with running_smtp_sink() as server:
        yield server


def _url(server) -> str:
    return f"smtp://127.0.0.1:{server.server_address[1]}"


def _queue(recipient: str, body: str = "Your code is 123456.") -> OutgoingMail:
    mail = queue_mail(recipient, "Your Miles & More login code", body, purpose="email_code")
    db.session.commit()
    return mail


def test_outbox_holds_recipient_and_body_encrypted(app_ctx):
    mail = _queue("ewa@example.com", "Twój kod: 654321")
    raw = db.session.execute(
        text("SELECT recipient, body, purpose FROM mail_outbox WHERE id = :id"), {"id": mail.id}
    ).one()
    assert "ewa@example.com" not in raw.recipient and "654321" not in raw.body
    assert raw.purpose == "email_code"


def test_send_pending_delivers_and_marks_sent(app_ctx, smtp_sink):
    first = _queue("anna@example.com", "Dein Code: 111111")
    second = _queue("jan@example.com")
    result = send_pending(_url(smtp_sink), SENDER)
    assert (result.sent, result.failed) == (2, 0)
    messages = [message_from_bytes(m, policy=policy.default) for m in smtp_sink.messages]
    assert [m["To"] for m in messages] == ["anna@example.com", "jan@example.com"]
    assert messages[0]["From"] == SENDER
    assert messages[0]["Subject"] == "Your Miles & More login code"
    assert messages[0].get_content_type() == "text/plain"
    assert "Dein Code: 111111" in messages[0].get_content()
    for mail in (first, second):
        db.session.refresh(mail)
        assert mail.sent_at is not None and mail.attempts == 1
    # Nothing is sent twice.
    assert send_pending(_url(smtp_sink), SENDER).sent == 0
    assert len(smtp_sink.messages) == 2


def test_refused_mail_is_retried_later_without_its_content_in_the_error(app_ctx, smtp_sink):
    refused = _queue("refused@example.com")
    good = _queue("fine@example.com")
    result = send_pending(_url(smtp_sink), SENDER)
    assert (result.sent, result.failed) == (1, 1)
    db.session.refresh(refused)
    db.session.refresh(good)
    assert good.sent_at is not None
    assert refused.sent_at is None and refused.attempts == 1
    assert refused.next_attempt_at > utcnow()
    assert "refused@" not in refused.last_error and "123456" not in refused.last_error
    # Not due yet: the next drain leaves it alone; once due, it is tried again.
    assert send_pending(_url(smtp_sink), SENDER).failed == 0
    refused.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert send_pending(_url(smtp_sink), SENDER).failed == 1
    db.session.refresh(refused)
    assert refused.attempts == 2


def test_unreachable_server_counts_every_due_mail_as_failed(app_ctx):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    mail = _queue("anna@example.com")
    result = send_pending(f"smtp://127.0.0.1:{port}", SENDER)
    assert (result.sent, result.failed) == (0, 1)
    db.session.refresh(mail)
    assert mail.attempts == 1 and mail.last_error == "ConnectionRefusedError"


@pytest.mark.parametrize("url", ["", "http://mail.example", "smtp://", "smtp://host:notaport"])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(InvalidInput):
        parse_smtp_url(url)


def test_smtp_url_with_credentials_and_tls():
    target = parse_smtp_url("smtps://user%40x:p%3Ass@mail.example")
    assert (target.host, target.port, target.tls) == ("mail.example", 465, True)
    assert (target.username, target.password) == ("user@x", "p:ss")


def test_mail_send_command(app, runner, app_ctx, smtp_sink, monkeypatch):
    _queue("anna@example.com")
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], smtp_url=_url(smtp_sink)))
    result = runner.invoke(args=["mail", "send", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sent": 1, "failed": 0}
    assert len(smtp_sink.messages) == 1


def test_mail_send_command_without_smtp_url_fails_clearly(app, runner, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "IDP", replace(app.config["IDP"], smtp_url=""))
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "IDP_SMTP_URL is not set" in result.output
    assert db.session.scalars(select(OutgoingMail)).all() == []
