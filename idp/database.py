"""The database connections: SQLite set up for several worker processes, and
a server database's pooled connections checked only when they may have died.

SQLite
------

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

A server database (PostgreSQL)
------------------------------
Reads run without a transaction there too, for another reason: round trips.
psycopg sends ``BEGIN`` on its own round trip before the first statement of a
transaction, and the pool sends ``ROLLBACK`` when a connection comes back, so a
request that reads one row (JWKS, introspection, UserInfo) made three round
trips for it. The connection is in autocommit instead, and ``BEGIN`` is sent
just before the first statement that is not a plain read: an ``INSERT``,
``UPDATE``, ``DELETE``, a savepoint, DDL, or a ``SELECT ... FOR UPDATE`` (a
row lock only lasts as long as its transaction). From there on everything
runs in that transaction until the commit or rollback, as before. Each read
before it sees the latest committed state, which is what READ COMMITTED gives
each statement of a transaction anyway; no read of the provider writes
through a function.

A pooled connection dies when the server restarts or ends its backend; a
statement on it would fail the request. Pinging every checkout (SQLAlchemy's
``pool_pre_ping``) costs a round trip per request. Instead a connection is
pinged when it is taken from the pool only if it may have died: it sat idle
longer than ``IDLE_PING_SECONDS``, or the server wrote to it while it was idle
(a backend being ended sends its error and closes the socket, which a poll
with no timeout sees without a round trip). A failed ping raises
``DisconnectionError``, and the pool replaces the connection with a new one.
"""

from __future__ import annotations

import re
import select
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

#: How long a writer waits for the write lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 20_000

#: Statements that only read (or set connection options): they need no transaction.
_READ_ONLY = re.compile(r"\s*(SELECT|PRAGMA|EXPLAIN)\b", re.IGNORECASE)

#: On PostgreSQL: a plain read, without a row lock that would need a transaction to last.
_PLAIN_READ = re.compile(
    r"\s*(SELECT|SHOW)\b(?!.*\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b)",
    re.IGNORECASE | re.DOTALL,
)

#: A pooled connection idle longer than this is pinged before it is used again.
IDLE_PING_SECONDS = 5.0
#: Where a pooled connection keeps the time it was returned to the pool.
_IDLE_SINCE = "idp_idle_since"


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


def configure_postgresql(engine: Engine) -> None:
    """Reads without a transaction, ``BEGIN`` before the first write (see the module)."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_writing(connection, cursor, statement, _parameters, _context, _many):
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
            return  # in the transaction already (or failed in it: the statement will say)
        if _PLAIN_READ.match(statement):
            return
        cursor.execute("BEGIN")

    ping_idle_connections(engine)


def ping_idle_connections(engine: Engine) -> None:
    """Ping a connection taken from ``engine``'s pool only if it may have died."""

    @event.listens_for(engine, "connect")
    def _new(_dbapi_connection, record):
        record.info.pop(_IDLE_SINCE, None)  # a new connection needs no ping

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy):
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None:
            return
        idle = time.monotonic() - idle_since > IDLE_PING_SECONDS
        if not idle and not _written_to(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection is gone: {type(exc).__name__}") from exc


def _written_to(dbapi_connection) -> bool:
    """Whether the server sent anything on an idle connection (its socket is readable):
    nothing is due on one, so it is the error of a backend that ended, or the close."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # no socket to poll (a closed connection refuses fileno()): ping
        return True
