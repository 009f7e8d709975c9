"""PostgreSQL connections are not pinged on every checkout, and the provider recovers
when the server ends them (a restart, an administrator): no request fails."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from idp.extensions import db
from tests.conftest import make_test_app


@pytest.fixture
def provider(backend, database_url, tmp_path, app):  # ``app``: the database, migrated
    if backend != "postgresql":
        pytest.skip("SQLite has no server to end connections")
    provider = make_test_app(database_url, tmp_path / "instance")
    yield provider
    with provider.app_context():
        db.engine.dispose()


@pytest.fixture
def pings(provider, monkeypatch):
    """Count the pings the pool makes."""
    with provider.app_context():
        dialect = db.engine.dialect
    made = []
    real = dialect.do_ping

    def counted(dbapi_connection):
        made.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return made


def _pooled_backends(provider, count: int) -> set[int]:
    """Hold ``count`` pooled connections at once and return their server processes."""
    with provider.app_context():
        connections = [db.engine.connect() for _ in range(count)]
        pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in connections}
        for connection in connections:
            connection.close()
    return pids


def _end_backends(pids: set[int]) -> None:
    admin = create_engine(os.environ["IDP_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            # Waits until the process has ended (up to 5 s), as after a restart.
            assert conn.execute(
                text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
            ).scalar()
    admin.dispose()


def _requests(http) -> list[int]:
    return [
        http.get("/readyz").status_code,
        http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
        ).status_code,
    ]


def test_connections_used_again_at_once_are_not_pinged(provider, pings):
    http = provider.test_client()
    for _ in range(5):
        assert _requests(http) == [200, 401]
    assert pings == []


def test_requests_after_the_server_ended_the_connections_succeed(provider, pings):
    http = provider.test_client()
    assert _requests(http) == [200, 401]
    ended = _pooled_backends(provider, 3)
    _end_backends(ended)
    for _ in range(4):
        assert _requests(http) == [200, 401]
    assert pings  # the dead connections were found before use
    assert not _pooled_backends(provider, 3) & ended
