"""The schema is built by the migrations only; models and migrations never drift."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from idp.extensions import db
from tests.conftest import make_test_app


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_round_trip_with_rows(database_url, backend, tmp_path):
    """Upgrade, add rows, downgrade to empty, upgrade again: every step succeeds."""
    if backend == "postgresql":
        # The session database is migrated already; use a schema of its own.
        pytest.skip("covered by test_round_trip_postgresql")
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    _round_trip(make_test_app(url, tmp_path / "instance"))


def test_round_trip_postgresql(backend, tmp_path):
    if backend != "postgresql":
        pytest.skip("runs once, on PostgreSQL (IDP_TEST_DATABASE_URL)")
    import os
    import uuid

    from sqlalchemy import create_engine

    from tests.conftest import postgres_schema_url

    base = os.environ["IDP_TEST_DATABASE_URL"]
    schema = f"rt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        _round_trip(make_test_app(postgres_schema_url(base, schema), tmp_path / "instance"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _round_trip(app):
    from idp.services.members import NewMember, create_member
    from idp.services.registration import ClientRequest, create_partner, register_client

    with app.app_context():
        upgrade()
        member = create_member(
            NewMember(
                email="round@trip.example",
                password="a long password",
                given_name="R",
                family_name="T",
            )
        )
        partner = create_partner("Round Trip Air", "co_issuer")
        register_client(
            ClientRequest(
                partner_id=partner.id,
                client_name="RT",
                redirect_uris=["https://rt.example/cb"],
                scope="openid profile",
                purposes=["autofill"],
            )
        )
        assert member.id
        db.session.remove()  # release the connection before the schema changes
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "members" in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()


def test_audit_events_are_append_only_in_the_database(app):
    from idp.services import audit

    with app.app_context():
        entry = audit.record("test.event", member_id="m1")
        db.session.commit()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(
                text("UPDATE audit_events SET event = 'x' WHERE id = :id"), {"id": entry.id}
            )
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": entry.id})
        db.session.rollback()
