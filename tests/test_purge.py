"""``mam-idp purge``: what outlived its purpose goes, the rest stays, evidence always stays."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, ConsentRecord, Token
from idp.services import retention
from tests.live.server import SCRIPT, LiveProvider
from tests.purge_rows import PURGED_TABLES, present, seed


def _evidence() -> tuple[int, int]:
    return (
        db.session.scalar(select(db.func.count(ConsentRecord.id))),
        db.session.scalar(select(db.func.count(AuditEvent.id))),
    )


def test_every_rule_names_a_purged_table_and_never_the_evidence():
    tables = [rule.table for rule in retention.RULES]
    assert tables == list(PURGED_TABLES)
    assert not retention.PROTECTED_TABLES & set(tables)


def test_dry_run_reports_what_would_go_and_writes_nothing(runner, app_ctx):
    seeded = seed()
    before = {table: present(table) for table in PURGED_TABLES}
    result = runner.invoke(args=["purge", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"deleted": seeded.expected_counts()}
    db.session.expire_all()
    assert {table: present(table) for table in PURGED_TABLES} == before
    assert _evidence() == (seeded.consent_records, seeded.audit_events)


@pytest.mark.parametrize("batch_size", ["2", "500"])
def test_purge_deletes_what_ended_and_keeps_what_lives(runner, app_ctx, batch_size):
    seeded = seed()
    result = runner.invoke(args=["purge", "--json", "--batch-size", batch_size])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"deleted": seeded.expected_counts()}
    db.session.expire_all()
    for table in PURGED_TABLES:
        assert present(table) == seeded.kept[table], table
    # The live grant outlives the code it came from, and forgets it.
    assert db.session.get(Token, seeded.token_of_purged_code).code_id is None
    # Evidence and the audit log stay; the purge itself is one more audit event.
    assert _evidence() == (seeded.consent_records, seeded.audit_events + 1)
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "retention.purged")
    ).all()
    assert event.details == {t: n for t, n in seeded.expected_counts().items() if n}

    again = runner.invoke(args=["purge", "--json"])
    assert json.loads(again.stdout) == {"deleted": dict.fromkeys(PURGED_TABLES, 0)}
    assert _evidence() == (seeded.consent_records, seeded.audit_events + 1)


def test_purge_for_people_prints_a_line_per_table(runner, app_ctx):
    seed()
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "tokens: would delete 7" in result.output
    assert "Total: would delete" in result.output


@pytest.mark.parametrize("size", ["0", "-1", "many"])
def test_a_bad_batch_size_is_a_usage_error(runner, app_ctx, size):
    result = runner.invoke(args=["purge", "--json", "--batch-size", size])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == "usage"


@pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")
def test_purge_through_the_console_script(tmp_path, backend, redis_url):
    provider = LiveProvider(tmp_path, backend, redis_url)
    try:
        provider.migrate()
        app = provider.app()
        with app.app_context():
            seeded = seed()
            db.session.remove()
        dry = provider.run("purge", "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout) == {"deleted": seeded.expected_counts()}
        done = provider.run("purge", "--json", "--batch-size", "3")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"deleted": seeded.expected_counts()}
        with app.app_context():
            for table in PURGED_TABLES:
                assert present(table) == seeded.kept[table], table
            assert _evidence() == (seeded.consent_records, seeded.audit_events + 1)
            db.session.remove()
        again = provider.run("purge", "--json")
        assert json.loads(again.stdout) == {"deleted": dict.fromkeys(PURGED_TABLES, 0)}
    finally:
        provider.close()
