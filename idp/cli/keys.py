"""``mam-idp keys``: re-encrypt with the current data key, rotate the signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from idp.cli.output import JSONCommand, emit, json_option

keys = AppGroup("keys", help="Data and signing keys.")


@keys.command("rotate-data-key", cls=JSONCommand)
@click.option("--batch-size", default=500, show_default=True, type=int)
@json_option
def rotate_data_key_command(as_json: bool, batch_size: int) -> None:
    """Re-encrypt personal data and secrets with the current (first) data key.

    Put the new key first in IDP_DATA_KEY, keep the old one after it, run this,
    then remove the old key.
    """
    from idp.services.data_keys import rotate_data_key

    reports = rotate_data_key(batch_size=batch_size)
    tables = {name: report.as_dict() for name, report in reports.items()}
    totals = {
        key: sum(t[key] for t in tables.values())
        for key in ("rows", "reencrypted", "indexes_recomputed", "changed_meanwhile")
    }
    lines = [
        f"{name}: {t['reencrypted']} values re-encrypted, "
        f"{t['indexes_recomputed']} indexes recomputed in {t['rows']} rows"
        for name, t in tables.items()
    ]
    lines.append(
        f"Done: {totals['reencrypted']} values re-encrypted, "
        f"{totals['indexes_recomputed']} indexes recomputed."
    )
    emit(as_json, {"tables": tables, **totals}, "\n".join(lines))


@keys.command("rotate", cls=JSONCommand)
@json_option
def rotate_keys_command(as_json: bool) -> None:
    """Add a new signing key per algorithm and make it current.

    The previous keys stay in the JWKS until every token they signed has expired.
    """
    from idp.services.signing_keys import rotate_keys

    kids = rotate_keys()
    emit(
        as_json,
        {"kid": kids["RS256"], "kids": kids},
        "\n".join(f"{alg}: {kid}" for alg, kid in sorted(kids.items())),
    )
