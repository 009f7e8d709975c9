"""Data key rotation: every encrypted value and blind index moved to the current key.

Put a new key in front of ``IDP_DATA_KEY`` (``NEW,OLD``), restart, run
``mam-idp keys rotate-data-key``, then drop the old key. Until the old key is
dropped, both keys open every value and lookups ask for the index under both,
so the provider keeps working while the rotation runs.

Encrypted columns are found on ``db.metadata`` by their type, so a column added
later is covered without touching this module. The rows are walked in primary
key order in batches, one transaction per batch; a run can be interrupted and
repeated, and a second run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Table, bindparam, column, select, table, tuple_, update
from sqlalchemy.types import Text

from idp.extensions import db, keyring
from idp.models.types import EncryptedJSON, EncryptedText
from idp.services import audit
from idp.services.errors import ServiceError

DEFAULT_BATCH_SIZE = 500


class RotationError(ServiceError):
    code = "data_key"


@dataclass(frozen=True)
class BlindIndex:
    """An HMAC lookup column computed from the plaintext of an encrypted column."""

    table: str
    source: str
    index: str
    compute: Callable[[str], str]


def blind_indexes() -> list[BlindIndex]:
    from idp.services.members import card_index, email_index

    return [
        BlindIndex("members", "email", "email_index", email_index),
        BlindIndex("card_numbers", "number", "number_index", card_index),
    ]


def encrypted_columns() -> dict[str, list[str]]:
    """``{table name: [encrypted column names]}`` for every table on the metadata."""
    found: dict[str, list[str]] = {}
    for name, tbl in sorted(db.metadata.tables.items()):
        names = [c.name for c in tbl.columns if isinstance(c.type, EncryptedText | EncryptedJSON)]
        if names:
            found[name] = names
    return found


@dataclass
class TableReport:
    rows: int = 0
    reencrypted: int = 0
    indexes_recomputed: int = 0
    #: Rows another process changed between our read and our write; they are current already.
    changed_meanwhile: int = 0
    columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "reencrypted": self.reencrypted,
            "indexes_recomputed": self.indexes_recomputed,
            "changed_meanwhile": self.changed_meanwhile,
        }


def rotate_data_key(batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, TableReport]:
    """Re-encrypt every encrypted value and recompute every blind index under the current key.

    Values are compared and set in one UPDATE (``WHERE column = old ciphertext``),
    so a row written by the running provider during the rotation is never
    overwritten with an older value. Raises ``RotationError`` when a value opens
    with no configured key; batches committed before stay committed (they are
    correct), the failing batch writes nothing.
    """
    if batch_size < 1:
        raise RotationError("The batch size is at least 1.", "batch_size")
    if not keyring.keys:
        raise RotationError("No data key is configured.")
    indexes = {(b.table, b.source): b for b in blind_indexes()}
    reports: dict[str, TableReport] = {}
    for table_name, names in encrypted_columns().items():
        report = reports[table_name] = TableReport(columns=list(names))
        tbl = db.metadata.tables[table_name]
        table_indexes = [indexes[(table_name, n)] for n in names if (table_name, n) in indexes]
        for batch in _batches(tbl, names, [b.index for b in table_indexes], batch_size):
            try:
                _rotate_batch(tbl, names, table_indexes, batch, report)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
    audit.record(
        "data_key.rotated",
        reencrypted=sum(r.reencrypted for r in reports.values()),
        indexes_recomputed=sum(r.indexes_recomputed for r in reports.values()),
    )
    db.session.commit()
    return reports


def _raw(tbl: Table, names: list[str]):
    """The table with encrypted columns as plain text, so values are read and written as stored.

    Other columns keep their types (integer keys order as numbers). Returns the
    primary key column names and the table.
    """
    pk = [c.name for c in tbl.primary_key.columns]
    columns = []
    for name in dict.fromkeys(pk + names):
        kind = tbl.c[name].type
        columns.append(
            column(name, Text if isinstance(kind, EncryptedText | EncryptedJSON) else kind)
        )
    return pk, table(tbl.name, *columns)


def _batches(
    tbl: Table, names: list[str], index_names: list[str], batch_size: int
) -> Iterator[list[dict]]:
    pk, raw = _raw(tbl, names + index_names)
    key = [raw.c[n] for n in pk]
    last: tuple | None = None
    while True:
        query = select(*raw.c).order_by(*key).limit(batch_size)
        if last is not None:
            query = query.where(tuple_(*key) > tuple_(*last))
        rows = db.session.execute(query).mappings().all()
        # End the read transaction; each batch writes in one of its own.
        db.session.commit()
        if not rows:
            return
        yield [dict(r) for r in rows]
        last = tuple(rows[-1][n] for n in pk)


def _rotate_batch(
    tbl: Table,
    names: list[str],
    table_indexes: list[BlindIndex],
    rows: list[dict],
    report: TableReport,
) -> None:
    """Write the batch's changes: one executemany UPDATE per set of changed columns."""
    pk, raw = _raw(tbl, names + [b.index for b in table_indexes])
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        report.rows += 1
        changes: dict[str, str] = {}
        for name in names:
            value = row[name]
            if value is not None and not keyring.is_current(value):
                changes[name] = _reencrypt(tbl.name, name, value)
        for index in table_indexes:
            value = row[index.source]
            if value is None:
                continue
            fresh = index.compute(_decrypt(tbl.name, index.source, value))
            if fresh != row[index.index]:
                changes[index.index] = fresh
        if changes:
            params = {f"old_{n}": v for n, v in row.items()}
            params.update({f"new_{n}": v for n, v in changes.items()})
            groups.setdefault(tuple(sorted(changes)), []).append(params)
    for changed, params in groups.items():
        # Compare and set: a row must still hold what was read, or it is left alone.
        guards = [
            raw.c[n] == bindparam(f"old_{n}")
            if n in pk
            else raw.c[n].is_not_distinct_from(bindparam(f"old_{n}"))
            for n in raw.c.keys()
        ]
        statement = update(raw).where(*guards).values({n: bindparam(f"new_{n}") for n in changed})
        updated = db.session.execute(statement, params).rowcount
        report.changed_meanwhile += len(params) - updated
        report.reencrypted += updated * sum(1 for n in changed if n in names)
        report.indexes_recomputed += updated * sum(1 for n in changed if n not in names)


def _reencrypt(table_name: str, column_name: str, value: str) -> str:
    try:
        return keyring.reencrypt(value)
    except Exception as exc:
        raise RotationError(
            f"A value in {table_name}.{column_name} opens with no configured data key; "
            "put the key it was written with back into IDP_DATA_KEY."
        ) from exc


def _decrypt(table_name: str, column_name: str, value: str) -> str:
    try:
        return keyring.decrypt(value)
    except Exception as exc:
        raise RotationError(
            f"A value in {table_name}.{column_name} opens with no configured data key; "
            "put the key it was written with back into IDP_DATA_KEY."
        ) from exc
