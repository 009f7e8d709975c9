"""The embedded SQLite database, set up to hold several worker processes at once.

SQLite allows one writer at a time. Three settings keep concurrent requests
from failing with "database is locked":

- WAL journal mode: readers never block the writer and the writer never
  blocks readers; each read sees the last committed state.
- A busy timeout: a writer that finds another one waits for it instead of
  failing at once.
- Writes start as writers. A transaction that began as a reader (a deferred
  ``BEGIN``) and later writes must upgrade its lock; when another process
  committed in between, SQLite refuses the upgrade at once, whatever the busy
  timeout (its snapshot is stale). So no ``BEGIN`` is sent when SQLAlchemy
  begins a transaction: reads run in autocommit, each statement on the
  latest committed state (what PostgreSQL's READ COMMITTED gives too), and
  the first write statement (or savepoint) opens ``BEGIN IMMEDIATE``, which
  waits its turn for the write lock and then keeps it until the commit.

Reads therefore never hold a transaction open on SQLite, and a write
transaction lasts from the first write to the commit; the services commit
right after they write. Foreign keys are turned on, which SQLite leaves off.
"""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

#: How long a writer waits for the write lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 20_000

#: Statements that only read (or set connection options): they need no transaction.
_READ_ONLY = re.compile(r"\s*(SELECT|PRAGMA|EXPLAIN)\b", re.IGNORECASE)


def configure_sqlite(engine: Engine) -> None:
    """Install the connection settings and the writer-first transactions on ``engine``."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # pysqlite must not begin transactions of its own (it would break savepoints).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Persistent in the file; an in-memory database answers "memory" and stays so.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_as_writer(connection, cursor, statement, _parameters, _context, _many):
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.in_transaction or _READ_ONLY.match(statement):
            return
        cursor.execute("BEGIN IMMEDIATE")
