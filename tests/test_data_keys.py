"""Data key rotation: ``mam-idp keys rotate-data-key`` with old and new keys configured."""

from __future__ import annotations

import contextlib
import json

import pytest
from sqlalchemy import select, text

from idp.config import new_data_key
from idp.extensions import db, keyring
from idp.models import Credential, Member, OutgoingMail
from idp.services.data_keys import (
    TableReport,
    _batches,
    _rotate_batch,
    blind_indexes,
    encrypted_columns,
)
from idp.services.members import find_by_card_number, find_by_email, replace_card_number
from tests.conftest import TEST_DATA_KEYS
from tests.factories import make_member

OLD = TEST_DATA_KEYS[0]


@contextlib.contextmanager
def data_keys(*keys: str):
    """Run with these data keys configured, as IDP_DATA_KEY=",".join(keys) would."""
    keyring.configure(keys)
    try:
        yield
    finally:
        keyring.configure(TEST_DATA_KEYS)


def raw_values() -> dict[tuple[str, str], list[str]]:
    """Every stored encrypted value, read as the database holds it."""
    found = {}
    for table_name, names in encrypted_columns().items():
        for name in names:
            rows = db.session.execute(
                text(f"SELECT {name} FROM {table_name} WHERE {name} IS NOT NULL")  # noqa: S608
            ).scalars()
            found[(table_name, name)] = list(rows)
    return found


def opens_with_only(key: str, value: str) -> bool:
    with data_keys(key):
        try:
            keyring.decrypt(value)
        except Exception:
            return False
        return True


def seed_personal_data(unique):
    member, password, totp = make_member(
        email=f"{unique('rot')}@example.com",
        phone_number="+48221234567",
        birthdate="1975-05-05",
        gender="female",
    )
    member.address = {"street_address": "Marszałkowska 1", "locality": "Warszawa"}
    old_card = member.card_number
    replace_card_number(member, "lost_card")
    db.session.add(
        OutgoingMail(
            recipient=member.email,
            subject="Your code",
            body="Your code is 123456",
            purpose="email_code",
        )
    )
    db.session.commit()
    return member, totp, old_card


def test_encrypted_columns_are_found_by_their_type(app_ctx):
    columns = encrypted_columns()
    assert {"email", "given_name", "family_name", "phone_number", "address"} <= set(
        columns["members"]
    )
    assert columns["card_numbers"] == ["number"]
    assert set(columns["member_credentials"]) == {"totp_secret", "totp_pending_secret"}
    assert "travel_preferences" in columns["members"]
    assert columns["email_changes"] == ["new_email"]
    assert columns["passkeys"] == ["name"]
    assert set(columns["mail_outbox"]) == {"recipient", "body"}
    assert columns["signing_keys"] == ["private_jwk"]
    assert "email_index" not in columns["members"]
    assert {(b.table, b.index) for b in blind_indexes()} == {
        ("members", "email_index"),
        ("card_numbers", "number_index"),
    }


def test_rotation_moves_every_value_and_index_to_the_new_key(runner, app_ctx, unique):
    new = new_data_key()
    member, totp, old_card = seed_personal_data(unique)
    others = [make_member(email=f"{unique('rot')}@example.com")[0] for _ in range(4)]
    email, card = member.email, member.card_number
    before = raw_values()
    assert all(opens_with_only(OLD, v) for values in before.values() for v in values)

    with data_keys(new, OLD):
        result = runner.invoke(args=["keys", "rotate-data-key", "--batch-size", "2", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        total_values = sum(len(values) for values in before.values())
        assert report["reencrypted"] == total_values
        members_count = db.session.scalar(text("SELECT count(*) FROM members"))
        cards_count = db.session.scalar(text("SELECT count(*) FROM card_numbers"))
        assert report["indexes_recomputed"] == members_count + cards_count
        assert report["tables"]["members"]["rows"] == members_count
        assert report["changed_meanwhile"] == 0

        # Idempotent: a second run finds nothing to do.
        again = json.loads(runner.invoke(args=["keys", "rotate-data-key", "--json"]).stdout)
        assert again["reencrypted"] == 0 and again["indexes_recomputed"] == 0

    after = raw_values()
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    for values in after.values():
        for value in values:
            assert opens_with_only(new, value)
            assert not opens_with_only(OLD, value)

    with data_keys(new):
        db.session.expire_all()
        found = find_by_email(email.upper())
        assert found is not None and found.id == member.id
        assert find_by_card_number(card).id == member.id
        assert find_by_card_number(old_card) is None  # replaced cards stay history
        assert all(find_by_email(o.email).id == o.id for o in others)
        assert found.address == {"street_address": "Marszałkowska 1", "locality": "Warszawa"}
        assert found.phone_number == "+48221234567"
        assert db.session.get(Credential, member.id).totp_secret == totp
        mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.purpose == "email_code"))
        assert mail.body == "Your code is 123456"

    # The raw database never holds the plaintext.
    stored = json.dumps(list(after.values()), ensure_ascii=False)
    for plaintext in (email, card, totp, "Marszałkowska", "+48221234567", "Your code is"):
        assert plaintext not in stored


def test_rotation_without_changes_to_the_key_changes_nothing(runner, app_ctx, unique):
    make_member(email=f"{unique('rot')}@example.com")
    before = raw_values()
    result = runner.invoke(args=["keys", "rotate-data-key"])
    assert result.exit_code == 0, result.output
    assert "Done: 0 values re-encrypted, 0 indexes recomputed." in result.stdout
    assert raw_values() == before


def test_rotation_refuses_values_no_configured_key_opens(runner, app_ctx, unique):
    make_member(email=f"{unique('rot')}@example.com")
    before = raw_values()
    with data_keys(new_data_key()):
        result = runner.invoke(args=["keys", "rotate-data-key", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["error"] == "data_key"
    assert "IDP_DATA_KEY" in error["error_description"]
    assert raw_values() == before


def test_rotation_refuses_a_batch_size_below_one(runner, app_ctx):
    result = runner.invoke(args=["keys", "rotate-data-key", "--batch-size", "0", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["field"] == "batch_size"


def test_a_row_changed_during_the_rotation_is_not_overwritten(app_ctx, unique):
    """Compare and set: a value written by the running provider wins over the stale read."""
    new = new_data_key()
    member, _, _ = make_member(email=f"{unique('rot')}@example.com", given_name="Before")
    table = db.metadata.tables["members"]
    names = encrypted_columns()["members"]
    index = [b for b in blind_indexes() if b.table == "members"]
    with data_keys(new, OLD):
        batches = [
            [row for row in batch if row["id"] == member.id]
            for batch in _batches(table, names, [b.index for b in index], 1000)
        ]
        (stale,) = [row for batch in batches for row in batch]
        db.session.execute(
            db.update(Member).where(Member.id == member.id).values(given_name="After")
        )
        db.session.commit()
        report = TableReport()
        _rotate_batch(table, names, index, [stale], report)
        db.session.commit()
        assert report.changed_meanwhile == 1 and report.reencrypted == 0
        db.session.expire_all()
        assert db.session.get(Member, member.id).given_name == "After"


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_batches_cover_every_row_once(app_ctx, unique, batch_size):
    ids = {make_member(email=f"{unique('rot')}@example.com")[0].id for _ in range(5)}
    table = db.metadata.tables["members"]
    seen = [
        row["id"]
        for batch in _batches(table, ["email"], [], batch_size)
        for row in batch
        if row["id"] in ids
    ]
    assert sorted(seen) == sorted(ids)
