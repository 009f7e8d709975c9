"""``mam-idp serve``: the production server, gunicorn with N worker processes.

Each worker builds its own application with ``create_app()`` after the fork, so
no database connection, Redis connection or lock is ever shared between
processes. The settings are validated once in the command before gunicorn
starts (a bad value stops it with exit status 78, like every command), and
every worker reads the same environment.

Workers are gunicorn's ``gthread`` kind: a few threads per process keep
keep-alive connections and slow clients from holding a whole process, while
argon2 (which releases the GIL) can use every core. Eight threads per worker
served token, introspection and userinfo best with 2 workers on 2 cores
(measured with 1, 2, 4 and 8): a request waits on PostgreSQL for much of its
time, and the other threads use the core meanwhile.

Metrics are kept in prometheus_client's multiprocess mode: every worker writes
its counters into files in one directory (emptied at start, named to the
workers through the environment before they are forked), and ``/metrics`` in
any worker sums them all. Counters of a worker that exited keep counting.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from idp.config import share_metrics_directory

#: Defaults of ``mam-idp serve`` (INTERFACE.md).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8
#: Seconds a stopping worker gives the partner notifications it is delivering.
DELIVERY_GRACE = 2.0


class ServerLog(Logger):
    """gunicorn's own lines (workers booting, timeouts), without its access line.

    The application writes the access log itself, without query strings. With
    ``logconfig_dict`` set, gunicorn would still build its access line's fields
    for every request and hand them to a logger that has no handler.
    """

    def access(self, resp, req, environ, request_time) -> None:
        return None


class ProductionServer(BaseApplication):
    """gunicorn configured in code: no config file, no command line of its own."""

    def __init__(self, factory: Callable[[], Flask], options: dict):
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._factory()


def server_options(host: str, port: int, workers: int, threads: int, timeout: int = 30) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 20,
        "keepalive": 5,
        # The application writes its own access log (idp.logging), without secrets.
        "accesslog": None,
        "logger_class": ServerLog,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "mam-idp",
        # Each worker makes its own app after the fork (see the module docstring).
        "preload_app": False,
        # Forwarded headers are Werkzeug's ProxyFix's business (IDP_TRUSTED_PROXIES).
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        # gunicorn's own lines (workers booting, timeouts) as JSON, like the application's.
        "logconfig_dict": LOGGING,
        "worker_exit": stop_delivery,
    }


def stop_delivery(_server, worker) -> None:
    """In a worker that stops: partner notifications under way get ``DELIVERY_GRACE``
    seconds; the rest stays due in the outbox, for ``mam-idp worker``.

    The delivery threads are daemon threads, so the worker exits after that even
    when a partner does not answer, well within gunicorn's graceful timeout.
    """
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        # Imported here: the arbiter must not load the models (nor prometheus_client).
        from idp.services.notifications import stop_delivery as close

        close(app, DELIVERY_GRACE)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "handlers": {"stderr": {"class": "idp.observability.logs.StderrHandler", "formatter": "json"}},
    "formatters": {"json": {"()": "idp.observability.logs.JsonFormatter"}},
}


def prepare_metrics_directory(path: Path) -> Callable:
    """Empty the metric files' directory and hand it to the workers; returns the hook
    gunicorn calls when a worker exits."""
    if "prometheus_client" in sys.modules:
        # Its values would already live in this process, and so in every fork of it.
        raise RuntimeError("prometheus_client was imported before the metrics directory was set")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()  # counts of an earlier run are not this run's
    share_metrics_directory(path)

    def child_exit(_server, worker) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(path))

    return child_exit


def serve(
    factory: Callable[[], Flask],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = DEFAULT_WORKERS,
    threads: int = DEFAULT_THREADS,
    metrics_dir: Path | None = None,
) -> None:
    """Run gunicorn in the foreground until SIGTERM or SIGINT."""
    options = server_options(host, port, workers, threads)
    if metrics_dir is not None:
        options["child_exit"] = prepare_metrics_directory(metrics_dir)
    ProductionServer(factory, options).run()
