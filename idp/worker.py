"""``mam-idp worker``: sends the mail outbox and partner notifications until told to stop.

The outboxes are filled in the transactions of the requests that need a mail
(an email login code) or a notification (a back-channel logout, a Security
Event Token). The worker polls both every couple of seconds, and at once again
after a run that found work, so a member's code leaves within seconds.

Any number of workers may run, beside the web processes' own background
delivery of notifications: every mail and every notification is claimed for
one attempt by a single UPDATE that also leases it (``idp.services.mail``,
``idp.services.notifications``), so no two of them send the same thing, and a
row whose sender died is taken again when its lease runs out. What a stopped
worker left pending is due at once for the next.

SIGTERM or SIGINT lets the mail or notification in hand finish, then the
worker exits with status 0. Without ``IDP_SMTP_URL`` it delivers notifications
only and leaves mail in the outbox. It logs identifiers and outcomes on stderr,
never a recipient, a body, a code or a token.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import dataclass, field

from flask import Flask

from idp.extensions import db
from idp.services import mail, notifications

log = logging.getLogger(__name__)

#: Seconds between polls of an idle outbox.
DEFAULT_INTERVAL = 2.0
#: Mails or notifications taken per run; a full run is followed by another at once.
BATCH = 100


@dataclass
class RunReport:
    """What one pass over both outboxes did."""

    mail_sent: int = 0
    mail_failed: int = 0
    notifications: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    @property
    def busy(self) -> bool:
        done = self.mail_sent + self.mail_failed
        done += sum(self.notifications.get(k, 0) for k in ("delivered", "failed", "abandoned"))
        return done > 0


class Worker:
    def __init__(self, app: Flask, interval: float = DEFAULT_INTERVAL, batch: int = BATCH):
        settings = app.config["IDP"]
        self.app = app
        self.interval = interval
        self.batch = batch
        self.smtp_url = settings.smtp_url
        self.sender = settings.mail_sender
        # Refuses a malformed URL before the first poll (the command exits 78).
        self.smtp_target = mail.parse_smtp_url(self.smtp_url) if self.smtp_url else None
        self._stop = threading.Event()

    def stop(self, *_signal_args) -> None:
        """Ask the worker to stop after the item in hand (safe in a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_once(self) -> RunReport:
        """One pass over the mail outbox and the notification outbox.

        A failure in one (a database hiccup, a bug) is logged and leaves the
        other to run; the next pass tries again.
        """
        report = RunReport()
        with self.app.app_context():
            try:
                if self.smtp_target is not None:
                    try:
                        drained = mail.send_pending(
                            self.smtp_url,
                            self.sender,
                            limit=self.batch,
                            should_stop=self._stop.is_set,
                        )
                        report.mail_sent, report.mail_failed = drained.sent, drained.failed
                    except Exception:
                        report.errors += 1
                        log.exception("mail run failed; the next run tries again")
                        db.session.rollback()
                if not self.stopping:
                    try:
                        report.notifications = notifications.deliver_due(
                            limit=self.batch, should_stop=self._stop.is_set
                        )
                    except Exception:
                        report.errors += 1
                        log.exception("notification run failed; the next run tries again")
                        db.session.rollback()
            finally:
                db.session.remove()
        if report.busy or report.errors:
            log.info(
                "run: %s mail sent, %s mail to be retried; notifications %s",
                report.mail_sent,
                report.mail_failed,
                ", ".join(f"{k} {v}" for k, v in sorted(report.notifications.items())) or "-",
            )
        return report

    def run(self) -> None:
        """Poll until ``stop()``; returns normally (exit status 0)."""
        if self.smtp_target is None:
            log.warning(
                "IDP_SMTP_URL is not set: partner notifications are delivered, "
                "mail stays in the outbox"
            )
            where = "no mail"
        else:
            # Host and port only: the URL may carry a password.
            where = f"mail through {self.smtp_target.host}:{self.smtp_target.port}"
        log.info("worker started: %s, polling every %.1f s", where, self.interval)
        while not self.stopping:
            report = self.run_once()
            if report.busy and not report.errors:
                continue  # more may be waiting: no pause while there is work
            self._stop.wait(self.interval)
        log.info("worker stopped")


def handle_stop_signals(worker: Worker) -> None:
    """SIGTERM (systemd, Kubernetes, a supervisor) and SIGINT (Ctrl-C) stop it cleanly."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, worker.stop)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def log_to_stderr() -> None:
    """Make the worker's lines visible when no logging was configured for ``idp``."""
    idp_logger = logging.getLogger("idp")
    handlers = [h for h in idp_logger.handlers if not isinstance(h, logging.NullHandler)]
    if not handlers and not logging.getLogger().handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        idp_logger.addHandler(handler)
    if idp_logger.level == logging.NOTSET:
        idp_logger.setLevel(logging.INFO)
