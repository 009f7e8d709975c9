"""Prometheus metrics: requests, and the security events the audit log records.

Import this module lazily (inside functions): prometheus_client decides at its
import whether values live in this process or in files shared by the worker
processes of ``mam-idp serve`` (its multiprocess mode), and the serving command
names that directory only after the application was first built.

Counters follow the audit log: ``idp.services.audit`` hands over the names of
the events a transaction committed, so a rolled-back login counts nothing.
Mail and partner notifications are delivered by other processes (``mam-idp
worker``, the CLI), so their figures are read from the database at each scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

PREFIX = "mam_idp"

#: Methods a route answers; anything else is counted as "other" so that a client
#: sending made-up methods cannot add series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by Flask endpoint, method and status.",
    ("endpoint", "method", "status"),
)
REQUEST_SECONDS = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint and method.",
    ("endpoint", "method"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOGINS = Counter(
    f"{PREFIX}_logins",
    "Login steps: succeeded (both factors), password_failed, second_factor_failed, "
    "refused_locked (refused because the account is locked).",
    ("outcome",),
)
LOCKOUTS = Counter(f"{PREFIX}_lockouts", "Accounts locked after too many failures.")
LOGIN_RATE_LIMITED = Counter(
    f"{PREFIX}_login_rate_limited", "Login requests refused by the per-address rate limit."
)
TOKENS_ISSUED = Counter(
    f"{PREFIX}_tokens_issued", "Access tokens issued, by grant type.", ("grant_type",)
)
TOKENS_REVOKED = Counter(
    f"{PREFIX}_tokens_revoked", "Revocation requests that revoked a token.", ("token_type",)
)
TOKEN_REPLAYS = Counter(
    f"{PREFIX}_token_replays",
    "Authorization codes or refresh tokens presented again (their grant is revoked).",
    ("kind",),
)
CONSENTS = Counter(f"{PREFIX}_consents", "Consent decisions, by decision.", ("decision",))
WITHDRAWALS = Counter(f"{PREFIX}_consent_withdrawals", "Consent withdrawals (any actor).")

#: audit event → (counter, its labels). Events not listed are not counted.
AUDIT_EVENTS: dict[str, tuple[Counter, dict[str, str]]] = {
    "login.succeeded": (LOGINS, {"outcome": "succeeded"}),
    "login.password_failed": (LOGINS, {"outcome": "password_failed"}),
    "login.second_factor_failed": (LOGINS, {"outcome": "second_factor_failed"}),
    "login.refused_locked": (LOGINS, {"outcome": "refused_locked"}),
    "login.locked": (LOCKOUTS, {}),
    "login.rate_limited": (LOGIN_RATE_LIMITED, {}),
    "token.refreshed": (TOKENS_ISSUED, {"grant_type": "refresh_token"}),
    "token.code_replayed": (TOKEN_REPLAYS, {"kind": "authorization_code"}),
    "token.refresh_reused": (TOKEN_REPLAYS, {"kind": "refresh_token"}),
    "consent.granted": (CONSENTS, {"decision": "granted"}),
    "consent.denied": (CONSENTS, {"decision": "denied"}),
    "consent.withdrawn": (WITHDRAWALS, {}),
}

#: Values of a label taken from the event's details, so that they stay few.
GRANT_TYPES = frozenset({"authorization_code", "client_credentials", "refresh_token"})
TOKEN_TYPES = frozenset({"access_token", "refresh_token"})


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    counter, histogram = _request_series(endpoint, method, status)
    counter.inc()
    histogram.observe(seconds)


#: The labelled series of each (endpoint, method, status) seen: ``labels()`` checks
#: and converts its values and takes a lock on every call. The key space is small
#: (routes × known methods × the statuses they answer).
_SERIES: dict[tuple, tuple] = {}


def _request_series(endpoint: str | None, method: str, status: int) -> tuple:
    # The method is folded first, so that made-up methods cannot grow the dict.
    key = (endpoint, method if method in KNOWN_METHODS else "other", status)
    series = _SERIES.get(key)
    if series is None:
        label = endpoint or "none"  # no route matched (404, or a 405 before routing)
        series = (
            REQUESTS.labels(label, key[1], str(status)),
            REQUEST_SECONDS.labels(label, key[1]),
        )
        _SERIES[key] = series
    return series


def count_audit_events(events: Iterable[tuple[str, dict]]) -> None:
    """Count committed audit events (name and details)."""
    for name, details in events:
        if name == "token.issued":
            grant = details.get("grant_type")
            TOKENS_ISSUED.labels(grant if grant in GRANT_TYPES else "other").inc()
        elif name == "token.revoked":
            kind = details.get("token_type")
            TOKENS_REVOKED.labels(kind if kind in TOKEN_TYPES else "other").inc()
        elif name in AUDIT_EVENTS:
            counter, labels = AUDIT_EVENTS[name]
            (counter.labels(**labels) if labels else counter).inc()


class OutboxCollector(Collector):
    """Mail and partner notifications by state, read from the database when scraped."""

    def collect(self):
        from idp.extensions import db
        from idp.models import OutgoingMail, PartnerNotification

        mail = GaugeMetricFamily(
            f"{PREFIX}_mail",
            "Mails in the outbox: pending (not tried), retrying (a send failed), sent.",
            labels=("state",),
        )
        notifications = GaugeMetricFamily(
            f"{PREFIX}_partner_notifications",
            "Partner notifications kept: pending (not tried), retrying (a delivery failed), "
            "delivered, abandoned (every attempt failed).",
            labels=("state",),
        )
        try:
            mails = db.session.execute(
                select(
                    _count(OutgoingMail.sent_at.is_(None) & (OutgoingMail.attempts == 0)),
                    _count(OutgoingMail.sent_at.is_(None) & (OutgoingMail.attempts > 0)),
                    _count(OutgoingMail.sent_at.is_not(None)),
                )
            ).one()
            open_ = PartnerNotification.delivered_at.is_(None) & (
                PartnerNotification.abandoned_at.is_(None)
            )
            notes = db.session.execute(
                select(
                    _count(open_ & (PartnerNotification.attempts == 0)),
                    _count(open_ & (PartnerNotification.attempts > 0)),
                    _count(PartnerNotification.delivered_at.is_not(None)),
                    _count(PartnerNotification.abandoned_at.is_not(None)),
                )
            ).one()
            db.session.rollback()  # a read: hold no transaction past the scrape
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database did not answer; outbox figures left out")
            return
        for state, value in zip(("pending", "retrying", "sent"), mails, strict=True):
            mail.add_metric([state], value or 0)
        for state, value in zip(
            ("pending", "retrying", "delivered", "abandoned"), notes, strict=True
        ):
            notifications.add_metric([state], value or 0)
        yield mail
        yield notifications


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def exposition(shared_directory: str | None) -> tuple[bytes, str]:
    """The Prometheus text of this process, or of every worker sharing ``shared_directory``."""
    from prometheus_client import CONTENT_TYPE_LATEST
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    if shared_directory:
        MultiProcessCollector(registry, path=shared_directory)
    else:
        registry.register(_Everything())
    registry.register(OutboxCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Everything(Collector):
    """This process's default registry (request and event counters, process figures)."""

    def collect(self):
        return REGISTRY.collect()
