"""The embedded SQLite database: WAL, a busy timeout, reads without a transaction, writers first."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from idp.database import BUSY_TIMEOUT_MS, configure_sqlite
from idp.extensions import db
from tests.conftest import make_test_app


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    configure_sqlite(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    yield engine
    engine.dispose()


def test_the_app_runs_sqlite_in_wal_mode_with_a_busy_timeout(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'idp.sqlite3'}", tmp_path / "instance")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_reads_hold_no_transaction_and_the_first_write_takes_the_write_lock(engine, tmp_path):
    other = sqlite3.connect(tmp_path / "db.sqlite3", timeout=0.1, isolation_level=None)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 0
        assert not conn.connection.dbapi_connection.in_transaction
        other.execute("BEGIN IMMEDIATE")  # nothing stops another writer after a read
        other.execute("ROLLBACK")

        conn.execute(text("UPDATE counter SET n = 1"))
        assert conn.connection.dbapi_connection.in_transaction
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        # Readers are never blocked (WAL); they see the last committed state.
        assert other.execute("SELECT n FROM counter").fetchone() == (0,)
        conn.commit()
    assert other.execute("SELECT n FROM counter").fetchone() == (1,)
    other.close()


def test_read_then_write_transactions_at_once_wait_for_each_other(engine):
    """Each reads, then writes what it read plus one: none fails, no increment is lost."""
    workers = 6
    barrier = threading.Barrier(workers)
    errors: list[Exception] = []

    def increment():
        try:
            with engine.connect() as conn:
                barrier.wait(timeout=10)
                conn.execute(text("SELECT n FROM counter")).scalar()
                time.sleep(0.05)  # every reader has read before anyone writes
                conn.execute(text("UPDATE counter SET n = n + 1"))
                time.sleep(0.05)  # hold the write lock a moment
                conn.commit()
        except Exception as exc:  # "database is locked" under the old deferred BEGIN
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == workers


def test_a_savepoint_opens_the_write_transaction_it_belongs_to(engine):
    with engine.connect() as conn:
        conn.begin()
        nested = conn.begin_nested()
        assert conn.connection.dbapi_connection.in_transaction
        conn.execute(text("UPDATE counter SET n = 5"))
        nested.commit()  # RELEASE must not end the outer transaction
        assert conn.connection.dbapi_connection.in_transaction
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 0
