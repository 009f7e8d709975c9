"""Data key rotation over the populated table (``mam-idp keys rotate-data-key``)."""

from __future__ import annotations

import time

from bench.registry import Context, Result, benchmark
from idp.config import new_data_key
from idp.extensions import keyring
from idp.services.data_keys import rotate_data_key


@benchmark("keys.rotate_data_key")
def rotate(ctx: Context) -> list[Result]:
    """Put a new key in front and move every value to it; the old key stays configured."""
    keyring.configure((new_data_key(), *keyring.keys))
    with ctx.app.app_context():
        started = time.perf_counter()
        reports = rotate_data_key()
        elapsed = time.perf_counter() - started
    rows = sum(r.rows for r in reports.values())
    values = sum(r.reencrypted for r in reports.values())
    return [
        Result(
            "keys.rotate_data_key",
            rows_per_s=rows / elapsed,
            note=f"{rows} rows, {values} values in {elapsed:.1f} s, batches of 500",
        )
    ]
