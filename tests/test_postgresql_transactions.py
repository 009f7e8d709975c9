"""PostgreSQL: reads run without a transaction, and ``BEGIN`` goes just before the first
write, so a request that only reads sends its SELECTs and nothing else (idp.database)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from idp.database import configure_postgresql
from idp.extensions import db
from tests.factories import make_client, make_partner
from tests.oauth.conftest import RP


@pytest.fixture
def engine(backend, committed_app):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only (SQLite: tests/test_database.py)")
    with committed_app.app_context():
        url = db.engine.url
    engine = create_engine(url)
    configure_postgresql(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS counter"))
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE counter"))
    engine.dispose()


def _status(conn) -> psycopg.pq.TransactionStatus:
    return conn.connection.dbapi_connection.info.transaction_status


IDLE, INTRANS = psycopg.pq.TransactionStatus.IDLE, psycopg.pq.TransactionStatus.INTRANS


def test_a_read_holds_no_transaction_and_a_write_opens_one(engine):
    with engine.connect() as conn, engine.connect() as other:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 0
        assert _status(conn) == IDLE
        conn.execute(text("UPDATE counter SET n = 1"))
        assert _status(conn) == INTRANS
        # Not committed: the other connection sees the old value, and a rollback undoes it.
        assert other.execute(text("SELECT n FROM counter")).scalar() == 0
        # After the write, reads belong to the transaction and see its own change.
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 1
        conn.rollback()
        assert _status(conn) == IDLE
        assert other.execute(text("SELECT n FROM counter")).scalar() == 0
        conn.execute(text("UPDATE counter SET n = 2"))
        conn.commit()
        assert other.execute(text("SELECT n FROM counter")).scalar() == 2


def test_a_row_lock_lasts_until_the_commit(engine):
    with engine.connect() as conn, engine.connect() as other:
        conn.execute(text("SELECT n FROM counter WHERE id = 1 FOR UPDATE")).scalar()
        assert _status(conn) == INTRANS
        with pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(text("SELECT n FROM counter WHERE id = 1 FOR UPDATE NOWAIT"))
        other.rollback()
        conn.commit()
        assert other.execute(text("SELECT n FROM counter WHERE id = 1 FOR UPDATE NOWAIT")).scalar() == 0
        other.commit()


def test_a_savepoint_opens_the_transaction_it_belongs_to(engine):
    with engine.connect() as conn:
        conn.begin()
        nested = conn.begin_nested()
        assert _status(conn) == INTRANS
        conn.execute(text("UPDATE counter SET n = 5"))
        nested.commit()  # RELEASE must not end the outer transaction
        assert _status(conn) == INTRANS
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 0


@pytest.fixture
def sent(monkeypatch):
    """Every statement and transaction command psycopg sends, in order."""
    commands: list[str] = []
    real_execute = psycopg.Cursor.execute
    real_command = psycopg.Connection._exec_command

    def execute(self, query, *args, **kwargs):
        commands.append(str(query).split()[0].upper())
        return real_execute(self, query, *args, **kwargs)

    def command(self, text_, *args, **kwargs):
        commands.append(bytes(text_).decode().split()[0].upper())
        return real_command(self, text_, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    monkeypatch.setattr(psycopg.Connection, "_exec_command", command)
    return commands


def test_requests_that_only_read_send_only_their_reads(backend, committed_app, sent):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only (SQLite: tests/test_database.py)")
    with committed_app.app_context():
        partner = make_partner()
        client, secret = make_client(partner, scope="openid", purposes=[])
        rp = RP(client.client_id, secret, "", client.id, partner.id, partner.name)
        db.session.commit()
    http = committed_app.test_client()
    assert http.get("/oauth/jwks.json").status_code == 200  # the key set is built once
    issued = http.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=rp.basic())
    assert issued.status_code == 200, issued.get_data(as_text=True)
    token = issued.get_json()["access_token"]

    sent.clear()
    assert http.get("/oauth/jwks.json").status_code == 200
    assert sent == ["SELECT"]  # the key set's version, and no BEGIN or ROLLBACK around it

    sent.clear()
    answer = http.post("/oauth/introspect", data={"token": token}, headers=rp.basic())
    assert answer.status_code == 200 and answer.get_json()["active"] is True
    assert sent == ["SELECT", "SELECT"]  # the client's version, then the token

    sent.clear()
    assert http.post("/oauth/token", data={"grant_type": "client_credentials"},
                     headers=rp.basic()).status_code == 200
    assert sent[0] == "SELECT" and sent[1] == "BEGIN" and sent[-1] == "COMMIT"
    assert "ROLLBACK" not in sent

