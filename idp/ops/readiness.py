"""Readiness checks: does each service the provider needs answer, within a short time?

Each check runs in a thread of its own and is waited for at most
``CHECK_TIMEOUT`` seconds, so a database that accepts connections but never
answers makes ``/readyz`` say so quickly instead of hanging the probe. While a
check is still hanging, later probes do not start another one: they report the
hang, so a stuck service never piles up threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import text

from idp.extensions import db

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0
OK, FAILED, TIMEOUT, NOT_CONFIGURED = "ok", "failed", "timeout", "not_configured"


class _Run:
    def __init__(self):
        self.done = threading.Event()
        self.outcome = FAILED


class Probe:
    def __init__(self, name: str, check: Callable[[], None]):
        self.name = name
        self._check = check
        self._lock = threading.Lock()
        self._current: _Run | None = None

    def __call__(self, timeout: float = CHECK_TIMEOUT) -> str:
        with self._lock:
            run = self._current
            if run is None or run.done.is_set():
                run = self._current = _Run()
                # A daemon thread: a check hanging on a dead host must not delay shutdown.
                threading.Thread(
                    target=self._run, args=(run,), name=f"readiness-{self.name}", daemon=True
                ).start()
            # else: join the check under way (another probe, or one still hanging)
        if not run.done.wait(timeout):
            log.warning("readiness: %s did not answer within %.1f s", self.name, timeout)
            return TIMEOUT
        return run.outcome

    def _run(self, run: _Run) -> None:
        try:
            self._check()
            run.outcome = OK
        except Exception as exc:  # any failure means "not ready"; the reason is logged
            log.warning("readiness: %s check failed: %s", self.name, type(exc).__name__)
        finally:
            run.done.set()


def _database_check(engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def _redis_check(url: str) -> Callable[[], None]:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT
    )
    return client.ping


def _probes(app: Flask) -> dict[str, Probe]:
    probes = app.extensions.get("idp_readiness")
    if probes is None:
        probes = {"database": Probe("database", _database_check(db.engine))}
        redis_url = app.config["IDP"].redis_url
        if redis_url:
            probes["redis"] = Probe("redis", _redis_check(redis_url))
        probes = app.extensions.setdefault("idp_readiness", probes)
    return probes


def check_services() -> dict[str, str]:
    """Each service's status: ``ok``, ``failed``, ``timeout`` or ``not_configured``."""
    probes = _probes(current_app)
    results = {name: probe() for name, probe in probes.items()}
    results.setdefault("redis", NOT_CONFIGURED)
    return results


def ready(results: dict[str, str]) -> bool:
    return all(status in (OK, NOT_CONFIGURED) for status in results.values())
