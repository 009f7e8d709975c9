"""The schema is built by the migrations only; models and migrations never drift.

Every revision is applied to a database that has rows in it: from empty, one
revision at a time up to head and back down to empty, a row goes into every
table that exists before each step, and after the step every earlier row is
still there with the values it had. The rows are written with SQLAlchemy Core
against the tables as that revision left them (reflected, not the models), so
the test follows new revisions without being told about them.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from idp.extensions import db
from tests.conftest import make_test_app, postgres_schema_url

#: Tables the walk must have put a row into at head: the data a deploy must keep.
DOMAIN_TABLES = {
    "members",
    "partners",
    "clients",
    "consents",
    "consent_records",
    "tokens",
    "audit_events",
}
#: (revision, table, column) whose values a revision changes on purpose.
TRANSFORMED: set[tuple[str, str, str]] = set()


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


@pytest.fixture
def empty_app(backend, tmp_path):
    """An app on a database of its own with no tables at all."""
    if backend == "sqlite":
        yield make_test_app(f"sqlite:///{tmp_path / 'walk.sqlite3'}", tmp_path / "instance")
        return
    base = os.environ["IDP_TEST_DATABASE_URL"]
    schema = f"mig_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield make_test_app(postgres_schema_url(base, schema), tmp_path / "instance")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def revisions() -> list[str]:
    """Every revision from the first to head, in order; the history must be one line."""
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    chain = [rev.revision for rev in script.walk_revisions("base", "heads")]
    chain.reverse()
    for rev in chain:
        assert isinstance(script.get_revision(rev).down_revision, str | None), (
            f"revision {rev} merges branches; the walk expects one line of history"
        )
    return chain


def value_for(column: sa.Column, tag: str, checks: dict[str, str]):
    """A value of the column's type that its constraints accept."""
    if column.name in checks:
        return checks[column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return int(re.sub(r"\D", "", tag) or 0) + 1
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date(2000, 1, 2)
    if isinstance(kind, sa.JSON):
        return {"tag": tag}
    if isinstance(kind, sa.LargeBinary):
        return tag.encode()
    if isinstance(kind, sa.Numeric | sa.Float):
        return 1
    if isinstance(kind, sa.String):
        value = f"{tag}{column.name}"
        return value[: kind.length] if kind.length else value
    raise AssertionError(
        f"{column.table.name}.{column.name}: no test value for type {kind!r}; "
        "teach value_for() about it"
    )


def allowed_values(inspector, table: str) -> dict[str, str]:
    """The first value of each ``column IN ('a', ...)`` check constraint of the table."""
    found = {}
    for check in inspector.get_check_constraints(table):
        # SQLite keeps the text as written; PostgreSQL answers ``(col)::text = ANY (ARRAY[...])``.
        match = re.search(
            r"(\w+)\)?(?:::[\w ]+)?\s*(?:IN\s*\(|=\s*ANY\s*\(+ARRAY\[)\s*'([^']*)'",
            check["sqltext"],
            re.IGNORECASE,
        )
        if match:
            found[match.group(1)] = match.group(2)
    return found


def insert_rows(step: int) -> dict[str, dict]:
    """One row in every table that exists now, foreign keys pointing at this step's rows."""
    inserted: dict[str, dict] = {}
    with db.engine.begin() as conn:
        metadata = sa.MetaData()
        metadata.reflect(bind=conn)
        inspector = inspect(conn)
        for number, table in enumerate(metadata.sorted_tables):
            if table.name == "alembic_version":
                continue
            tag = f"s{step}t{number:02d}"
            checks = allowed_values(inspector, table.name)
            row = {}
            for column in table.columns:
                references = [fk for fk in column.foreign_keys if fk.column.table.name in inserted]
                if references:
                    fk = references[0]
                    row[column.name] = inserted[fk.column.table.name][fk.column.name]
                elif column.foreign_keys:
                    assert column.nullable, f"{table.name}.{column.name}: no row to point at"
                elif (
                    column.primary_key
                    and column.autoincrement is not False
                    and isinstance(column.type, sa.Integer)
                ):
                    continue  # the database numbers it
                else:
                    row[column.name] = value_for(column, tag, checks)
            result = conn.execute(table.insert().values(**row))
            key = dict(
                zip(
                    [c.name for c in table.primary_key.columns],
                    result.inserted_primary_key,
                    strict=True,
                )
            )
            stored = conn.execute(
                table.select().where(*(table.c[name] == v for name, v in key.items()))
            ).one()
            inserted[table.name] = dict(stored._mapping)
    return inserted


def table_rows(conn, metadata, name: str, row: dict):
    table = metadata.tables[name]
    key = [c.name for c in table.primary_key.columns]
    return conn.execute(table.select().where(*(table.c[k] == row[k] for k in key))).all()


def assert_rows_survive(snapshots: list[dict[str, dict]], revision: str) -> None:
    with db.engine.connect() as conn:
        metadata = sa.MetaData()
        metadata.reflect(bind=conn)
        for inserted in snapshots:
            for name, before in inserted.items():
                if name not in metadata.tables:
                    continue  # the step dropped the table (a downgrade past its creation)
                found = table_rows(conn, metadata, name, before)
                assert len(found) == 1, f"at {revision}: the row {before!r} of {name} is gone"
                after = dict(found[0]._mapping)
                changed = {
                    column: (before[column], after[column])
                    for column in before.keys() & after.keys()
                    if before[column] != after[column]
                    and (revision, name, column) not in TRANSFORMED
                }
                assert not changed, f"at {revision}: {name} values changed {changed}"


def tables_now() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_every_revision_keeps_the_rows_it_finds(empty_app):
    with empty_app.app_context():
        chain = revisions()
        assert tables_now() == set()
        snapshots: list[dict[str, dict]] = []
        for step, revision in enumerate(chain):
            if tables_now():
                snapshots.append(insert_rows(step))
            upgrade(revision=revision)
            assert_rows_survive(snapshots, revision)
        # At head every table gets a row too: the rows the next revision must keep.
        at_head = insert_rows(len(chain))
        assert DOMAIN_TABLES <= set(at_head), f"no row in {DOMAIN_TABLES - set(at_head)}"
        snapshots.append(at_head)
        assert_rows_survive(snapshots, chain[-1])

        # And back down, one revision at a time, to an empty database.
        for step, revision in enumerate(reversed(chain)):
            below = chain[len(chain) - step - 2] if step < len(chain) - 1 else "base"
            snapshots.append(insert_rows(len(chain) + 1 + step))
            downgrade(revision=below)
            assert_rows_survive(snapshots, f"{below} (down from {revision})")
        assert tables_now() == set()

        upgrade()
        assert "members" in tables_now()
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
