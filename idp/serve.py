"""``mam-idp serve``: the production server, gunicorn with N worker processes.

Each worker builds its own application with ``create_app()`` after the fork, so
no database connection, Redis connection or lock is ever shared between
processes. The settings are validated once in the command before gunicorn
starts (a bad value stops it with exit status 78, like every command), and
every worker reads the same environment.

Workers are gunicorn's ``gthread`` kind: a few threads per process keep
keep-alive connections and slow clients from holding a whole process, while
argon2 (which releases the GIL) can use every core.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

#: Defaults of ``mam-idp serve`` (INTERFACE.md).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4


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


def server_options(
    host: str, port: int, workers: int, threads: int, timeout: int = 30
) -> dict:
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
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "mam-idp",
        # Each worker makes its own app after the fork (see the module docstring).
        "preload_app": False,
        # Forwarded headers are Werkzeug's ProxyFix's business (IDP_TRUSTED_PROXIES).
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
    }


def serve(
    factory: Callable[[], Flask],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = DEFAULT_WORKERS,
    threads: int = DEFAULT_THREADS,
) -> None:
    """Run gunicorn in the foreground until SIGTERM or SIGINT."""
    ProductionServer(factory, server_options(host, port, workers, threads)).run()
