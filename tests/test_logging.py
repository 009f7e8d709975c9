"""Log lines: JSON on stderr, request ids, tracebacks of unexpected errors, and no secrets."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, datetime

import pytest

from idp.observability.logs import JsonFormatter, StderrHandler, WerkzeugRequestLines
from tests.factories import make_member
from tests.login_flow import link_path, mailed_link, post_form
from tests.secret_journey import Browser, leaked, prepare


class Lines(logging.Handler):
    """Every record, formatted as the provider writes it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def parsed(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def lines():
    handler = Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # debug lines of every library too
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_app_logs_json_lines_to_stderr(app):
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h, StderrHandler)]
    assert len(handlers) == 1  # once, however many apps were made
    assert isinstance(handlers[0].formatter, JsonFormatter)
    assert root.getEffectiveLevel() <= logging.INFO


def test_every_request_gets_an_access_line_with_its_request_id(client, lines):
    response = client.get("/login?next=/account&code=abc")
    rid = response.headers["X-Request-Id"]
    assert len(rid) == 32
    (access,) = [line for line in lines.parsed() if line["logger"] == "idp.access"]
    assert access["request_id"] == rid
    assert access["method"] == "GET" and access["path"] == "/login"
    assert access["status"] == 200 and access["endpoint"] == "login.login"
    assert access["remote_addr"] == "127.0.0.1" and access["duration_ms"] >= 0
    assert access["level"] == "INFO" and access["time"].endswith("+00:00")
    assert "code=abc" not in lines.lines[-1]


def test_a_valid_incoming_request_id_is_kept_and_an_invalid_one_replaced(client, lines):
    kept = client.get("/healthz", headers={"X-Request-Id": "edge-1234.abc:9"})
    assert kept.headers["X-Request-Id"] == "edge-1234.abc:9"
    for bad in ("a b", "x" * 129, "<script>", "é"):
        replaced = client.get("/healthz", headers={"X-Request-Id": bad})
        assert replaced.headers["X-Request-Id"] != bad
        assert len(replaced.headers["X-Request-Id"]) == 32
    assert {line.get("request_id") for line in lines.parsed()} >= {"edge-1234.abc:9"}


def test_an_unexpected_error_is_logged_with_its_traceback(app, client, lines):
    def explode():
        raise RuntimeError("the disk is on fire")

    app.view_functions["ops.healthz"], original = explode, app.view_functions["ops.healthz"]
    try:
        response = client.get("/healthz", headers={"Accept": "application/json"})
    finally:
        app.view_functions["ops.healthz"] = original
    assert response.status_code == 500
    assert "the disk is on fire" not in response.get_data(as_text=True)
    rid = response.headers["X-Request-Id"]
    (error,) = [line for line in lines.parsed() if line["level"] == "ERROR"]
    assert error["logger"] == "idp.errors" and error["request_id"] == rid
    assert "RuntimeError: the disk is on fire" in error["traceback"]
    assert "\n" not in lines.lines[lines.parsed().index(error)]  # still one line
    access = [line for line in lines.parsed() if line["logger"] == "idp.access"]
    assert access[-1]["status"] == 500


def test_werkzeug_request_lines_are_dropped_and_queries_cut(app):
    """The filter is installed when an application is created (``app``), whichever test ran
    before."""
    werkzeug = logging.getLogger("werkzeug")
    assert any(isinstance(f, WerkzeugRequestLines) for f in werkzeug.filters)
    keep = WerkzeugRequestLines()
    request_line = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [01/Dec/2026 10:00:00] "%s" %s %s',
        ("GET /oauth/logout?id_token_hint=eyJsecret HTTP/1.1", "200", "-"),
        None,
    )
    assert keep.filter(request_line) is False
    bad_line = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        "code %d, message %s",
        (400, "Bad request syntax ('GET /cb?code=s3cr3t&x=1 HTTP/1.1')"),
        None,
    )
    assert keep.filter(bad_line) is True
    assert "s3cr3t" not in bad_line.getMessage() and "/cb?" in bad_line.getMessage()


def test_a_mailed_link_is_logged_without_its_token(app, app_ctx, client, lines):
    member, _password, _key = make_member()
    client.get("/login/forgot")
    post_form(client, "/login/forgot", {"login": member.email})
    with app.app_context():
        link = mailed_link(member.email, purpose="password_reset")
    token = link.rsplit("/", 1)[1]
    assert client.get(link_path(link)).status_code == 200
    client.get("/login/enrol/link/not-a-real-token")
    paths = [line["path"] for line in lines.parsed() if line["logger"] == "idp.access"]
    assert "/login/reset/<token>" in paths and "/login/enrol/link/<token>" in paths
    assert token not in "\n".join(lines.lines)


def test_no_secret_of_a_whole_journey_reaches_a_log_line(app, lines):
    journey = prepare(app)
    journey.run(Browser(client=app.test_client()))
    assert len(journey.secrets) >= 14
    text = "\n".join(lines.lines)
    paths = {line.get("path") for line in lines.parsed() if line["logger"] == "idp.access"}
    assert {"/login", "/login/verify", "/oauth/token", "/oauth/logout", "/oauth/revoke"} <= paths
    assert any(line["message"].startswith("audit login.password_failed") for line in lines.parsed())
    assert leaked(journey, text) == {}


def test_a_database_error_logs_its_statement_but_not_its_parameters(app, client, lines):
    from sqlalchemy import text

    from idp.extensions import db

    value = "s3cret-" + secrets.token_hex(8)  # made here: the traceback quotes source lines

    def query():
        db.session.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": value})

    app.view_functions["ops.healthz"], original = query, app.view_functions["ops.healthz"]
    try:
        assert client.get("/healthz").status_code == 500
    finally:
        app.view_functions["ops.healthz"] = original
    (error,) = [line for line in lines.parsed() if line["level"] == "ERROR"]
    assert "no_such_table" in error["traceback"]
    assert value not in "\n".join(lines.lines)


def test_lines_carry_the_time_in_utc_to_the_millisecond(client, lines):
    before = datetime.now(UTC).replace(microsecond=0)
    client.get("/healthz")
    after = datetime.now(UTC)
    (access,) = [line for line in lines.parsed() if line["logger"] == "idp.access"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", access["time"])
    assert before <= datetime.fromisoformat(access["time"]) <= after


def test_the_production_server_builds_no_access_line_of_its_own(caplog):
    """The application writes the access line; gunicorn's would be built and then dropped."""
    from gunicorn.config import Config

    from idp.serve import ServerLog, server_options

    cfg = Config()
    for key, value in server_options("127.0.0.1", 8000, 2, 8).items():
        cfg.set(key, value)
    assert cfg.logger_class is ServerLog
    log = ServerLog(cfg)

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"the access line read {name}")

    with caplog.at_level(logging.DEBUG, logger="gunicorn.access"):
        log.access(Untouchable(), Untouchable(), {}, Untouchable())
    assert [r for r in caplog.records if r.name == "gunicorn.access"] == []
