"""What operators see of a running provider: JSON log lines, request ids, metrics."""

from __future__ import annotations

from flask import Flask

from idp.observability.logs import configure_logging, init_request_logging


def init_app(app: Flask) -> None:
    configure_logging()
    init_request_logging(app)
