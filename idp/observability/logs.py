"""Log lines as operators read them: one JSON object per line on stderr.

Every line carries a timestamp, the level, the logger, the message and, inside a
request, the request id; tracebacks go into the same line. The application
writes its own access log (``idp.access``): the path without its query string,
because query strings carry one-time values (``code``, ``id_token_hint``,
``state``), and with a mailed link's token replaced by ``<token>``. Werkzeug's development server logs the raw request line: its
request lines are dropped (the access log has them) and any other query string
it logs is cut off.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from functools import cache

from flask import Flask, Response, has_request_context, request

ACCESS_LOGGER = "idp.access"
_ACCESS = logging.getLogger(ACCESS_LOGGER)
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_KEY = "idp.request_id"
#: Where WSGI puts the incoming ``X-Request-Id``.
_REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"
_STARTED_KEY = "idp.request_started"

#: An incoming request id is kept when it is short and made of safe characters
#: (a UUID, a proxy's hex id); anything else is replaced by a new one.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

#: Fields an access line carries besides the message.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr", "endpoint")


def request_id() -> str | None:
    """This request's id: the caller's ``X-Request-Id`` when valid, else a new one."""
    if not has_request_context():
        return None
    return _request_id_of(request.environ)


def _request_id_of(environ: dict) -> str:
    found = environ.get(_REQUEST_ID_KEY)
    if found is None:
        incoming = environ.get(_REQUEST_ID_ENVIRON, "")
        found = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        environ[_REQUEST_ID_KEY] = found
    return found


#: One encoder for every line: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


class _Timestamps:
    """ISO 8601 UTC timestamps to the millisecond, the seconds part made once per second.

    The same text as ``datetime.isoformat(timespec="milliseconds")`` of an aware UTC
    datetime: ``2026-01-31T12:00:00.123+00:00``.
    """

    def __init__(self):
        self._second = -1
        self._prefix = ""

    def format(self, created: float) -> str:
        second = int(created)
        millis = int((created - second) * 1000)
        if second != self._second:
            # Two threads may both rebuild it: each writes the same text.
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._prefix}.{millis:03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; never more than one line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._timestamps = _Timestamps()

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self._timestamps.format(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        rid = fields.get("request_id") or request_id()
        if rid:
            line["request_id"] = rid
        for name in ACCESS_FIELDS:
            if name in fields:
                line[name] = fields[name]
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _ENCODER.encode(line)


class StderrHandler(logging.StreamHandler):
    """The process's stderr as it was when logging was configured (like ``basicConfig``).

    Its own class, so that configuring twice (every ``create_app``) adds it once.
    """

    def __init__(self):
        super().__init__(sys.stderr)


_QUERY = re.compile(r"\?[^\s\"]*")


class WerkzeugRequestLines(logging.Filter):
    """Werkzeug's development server logs the full request line, query string included."""

    #: How the format of ``WSGIRequestHandler.log_request`` ends (after address and date).
    REQUEST_LINE = '"%s" %s %s'

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.endswith(self.REQUEST_LINE):
            return False  # the application's access log has this request, without secrets
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?…", record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_QUERY.sub("?…", a) if isinstance(a, str) else a for a in args)
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Send every logger's records to stderr as JSON lines; once per process."""
    root = logging.getLogger()
    if not any(isinstance(h, StderrHandler) for h in root.handlers):
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, WerkzeugRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(WerkzeugRequestLines())


def _start() -> None:
    environ = request.environ
    environ[_STARTED_KEY] = time.perf_counter()
    _request_id_of(environ)


#: Route arguments that are one-time secrets (the links mailed for a password reset
#: or an enrolment): the access log names the argument instead of its value.
SECRET_ROUTE_ARGUMENTS = ("token",)


def _loggable_path(current) -> str:
    path = current.path
    arguments = current.view_args or {}
    for name in SECRET_ROUTE_ARGUMENTS:
        value = arguments.get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def _finish(response: Response) -> Response:
    current = request._get_current_object()  # one context lookup, not one per field
    environ = current.environ
    rid = _request_id_of(environ)
    response.headers[REQUEST_ID_HEADER] = rid
    elapsed = time.perf_counter() - environ.get(_STARTED_KEY, time.perf_counter())
    method, path, status, endpoint = (
        current.method,
        _loggable_path(current),
        response.status_code,
        current.endpoint,
    )
    _metrics().observe_request(endpoint, method, status, elapsed)
    if _ACCESS.isEnabledFor(logging.INFO):
        fields = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(elapsed * 1000, 1),
            "remote_addr": current.remote_addr,
            "endpoint": endpoint,
            "request_id": rid,
        }
        # Made here rather than by ``Logger.info``, which would also walk the stack
        # to find the caller's file and line, on every request, for no field we write.
        record = _ACCESS.makeRecord(
            ACCESS_LOGGER,
            logging.INFO,
            __file__,
            0,
            "%s %s %s",
            (method, path, status),
            None,
            "_finish",
            fields,
        )
        _ACCESS.handle(record)
    return response


@cache
def _metrics():
    """``idp.observability.metrics``, imported at the first request, not at the top.

    prometheus_client must first be imported in the worker processes, after
    ``mam-idp serve`` has named their shared directory.
    """
    from idp.observability import metrics

    return metrics


def init_request_logging(app: Flask) -> None:
    """A request id and an access line for every request, and its metrics."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # Flask runs after_request functions last-registered first: at the front of the
    # list this one runs after all others and sees the status that is sent.
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
