"""A local SMTP server for tests: just enough of RFC 5321 for smtplib, on 127.0.0.1.

It keeps every message it accepted (``messages``, raw bytes) and refuses any
recipient whose address contains ``refused``.
"""

from __future__ import annotations

import socketserver
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage


class _SmtpSession(socketserver.StreamRequestHandler):
    """Greet, accept envelopes, collect DATA."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ready")
        lines: list[bytes] | None = None
        while raw := self.rfile.readline():
            if lines is not None:
                if raw.rstrip(b"\r\n") == b".":
                    self.server.accept(b"".join(lines))
                    lines = None
                    self.reply("250 queued")
                else:
                    lines.append(raw[1:] if raw.startswith(b"..") else raw)
                continue
            verb = raw[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == b"RCPT" and b"refused" in raw:
                self.reply("550 no such mailbox")
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 ok")
            elif verb == b"DATA":
                lines = []
                self.reply("354 go ahead")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.messages: list[bytes] = []
        self.changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}"

    def accept(self, raw: bytes) -> None:
        with self.changed:
            self.messages.append(raw)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """At least ``count`` messages, parsed; fails after ``timeout`` seconds."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.messages) >= count, timeout), (
                f"expected {count} mails, got {len(self.messages)}"
            )
            return [message_from_bytes(m, policy=policy.default) for m in self.messages]


@contextmanager
def running_smtp_sink():
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
