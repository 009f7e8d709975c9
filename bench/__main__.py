"""``python -m bench [NAME ...] [--members N] [--json]``: run the registered benchmarks.

Prints median and p95 in milliseconds, operations per second, and the peak
resident memory of the process. Bounded in time: each benchmark stops
measuring when its budget is spent.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import resource
import sys
import tempfile
import time
from pathlib import Path

import bench
from bench.registry import BENCHMARKS, Context, Result

SKIP = {"__main__", "registry", "population", "side_by_side"}


def discover() -> None:
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name not in SKIP:
            importlib.import_module(f"bench.{module.name}")


def peak_rss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def print_table(results: list[Result]) -> None:
    print(f"{'benchmark':32} {'n':>6} {'median ms':>11} {'p95 ms':>11} {'ops/s':>11}  note")
    for r in results:
        rate = "" if r.rows_per_s is None else f"{r.rows_per_s:,.0f}"
        print(
            f"{r.name:32} {len(r.samples_ms) or '':>6} {_ms(r.median_ms):>11} "
            f"{_ms(r.p95_ms):>11} {rate:>11}  {r.note}"
        )


def main(argv: list[str] | None = None) -> int:
    discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(sorted(BENCHMARKS))}")
    parser.add_argument("--members", type=int, default=10_000, help="members in the table")
    parser.add_argument("--budget", type=float, default=8.0, help="seconds per benchmark")
    parser.add_argument("--total", type=float, default=55.0, help="seconds for the whole run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(sorted(unknown))}")
    selected = args.names or sorted(BENCHMARKS)

    from bench.population import make_app, populate

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mam-idp-bench-") as workdir:
        app = make_app(Path(workdir))
        with app.app_context():
            begin = time.perf_counter()
            emails, cards = populate(args.members)
            populated = Result(
                "setup.populate",
                rows_per_s=args.members / (time.perf_counter() - begin),
                note=f"{args.members} members, bulk insert, SQLite file",
            )
        ctx = Context(
            app=app,
            emails=emails,
            card_numbers=cards,
            budget_s=args.budget,
            deadline=started + args.total,
        )
        results = [populated]
        for name in selected:
            if time.perf_counter() > ctx.deadline:
                results.append(Result(name, note="skipped: the total time budget is spent"))
                continue
            results.extend(BENCHMARKS[name](ctx))
        with app.app_context():
            from idp.extensions import db

            db.engine.dispose()
    total = time.perf_counter() - started
    if args.json:
        print(
            json.dumps(
                {
                    "results": [r.as_dict() for r in results],
                    "peak_rss_mb": round(peak_rss_mb(), 1),
                    "seconds": round(total, 1),
                }
            )
        )
    else:
        print_table(results)
        print(f"\npeak RSS {peak_rss_mb():.1f} MB; {total:.1f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
