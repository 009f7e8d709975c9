"""``python -m bench.side_by_side``: this provider and oidc-provider under the same load.

Starts ours (``mam-idp serve``, 2 workers, on PostgreSQL + Redis when they
answer, else SQLite) and the peer (oidc-provider, one Node process), loads each
endpoint on both in alternation with wrk, runs the code flow and ours' login
with Python drivers, and prints req/s, p99, errors and CPU per request per
side, the login rate against the argon2 ceiling, RSS per worker, and
introspection at growing numbers of live tokens. Everything it starts is
stopped, and the PostgreSQL schema dropped, when it ends or is interrupted.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.side_by_side import ceiling, load, peer, report
from bench.side_by_side.browser import Browser
from bench.side_by_side.ours import Database, OurProvider, postgres_reachable, redis_reachable
from bench.side_by_side.processes import Cleanup, descendants, rss_mib

EXTRAS = ("login", "scale", "ceiling")
#: Live tokens in the table for the introspection series; 10^6 takes a minute or two to insert.
SCALE = (1_000, 100_000, 1_000_000)
QUICK_SCALE = (1_000, 100_000)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.side_by_side", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these (repeatable, or comma-separated): "
                             f"{', '.join(load.ENDPOINTS + EXTRAS)}")
    parser.add_argument("--quick", action="store_true",
                        help="3 s per load, no warm-up: the whole run in about two minutes")
    parser.add_argument("--duration", type=int, help="seconds per load (default 10, quick 3)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per load (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--flow-workers", type=int, default=8,
                        help="concurrent browsers in the code flow")
    parser.add_argument("--login-workers", type=int, default=8, help="concurrent logins")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of ours")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server for ours (a schema of its own is made and dropped)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--sqlite", action="store_true",
                        help="SQLite and in-process limits even when PostgreSQL answers")
    parser.add_argument("--no-peer", action="store_true", help="ours alone")
    parser.add_argument("--scale-sizes", metavar="N,N,...",
                        help="live tokens for the introspection series "
                             "(default 1000,100000,1000000; quick 1000,100000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    args.only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = set(args.only) - set(load.ENDPOINTS + EXTRAS)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if args.duration is None:
        args.duration = 3 if args.quick else 10
    if args.warmup is None:
        args.warmup = 0 if args.quick else 1
    if args.scale_sizes is None:
        args.scale_sizes = QUICK_SCALE if args.quick else SCALE
    else:
        args.scale_sizes = tuple(int(n) for n in args.scale_sizes.split(",") if n.strip())
    return args


_STARTED = time.perf_counter()


def say(message: str) -> None:
    """Progress on stderr; stdout holds only the report."""
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def selected(args, name: str) -> bool:
    return not args.only or name in args.only


def run(args, cleanup: Cleanup) -> dict:
    started = time.perf_counter()
    notes: list[str] = []
    endpoints = [n for n in load.ENDPOINTS if selected(args, n)]
    if shutil.which("wrk") is None and (set(endpoints) - {load.CODE_FLOW} or selected(args, "scale")):
        raise SystemExit("wrk is not installed: `make bench-tools` installs it")
    skipped = "--no-peer" if args.no_peer else peer.why_not_available()
    if skipped is None:
        say(f"oidc-provider {peer.pinned_version()}: installing into {peer.FOLDER} if needed")
        peer.install()
    else:
        notes.append(f"peer skipped: {skipped}")

    workdir = Path(tempfile.mkdtemp(prefix="mam-idp-side-by-side-"))
    cleanup.add(lambda: shutil.rmtree(workdir, ignore_errors=True))
    use_postgres = not args.sqlite and postgres_reachable(args.database_url)
    use_redis = not args.sqlite and redis_reachable(args.redis_url)
    database = Database(workdir, args.database_url if use_postgres else None, cleanup)
    ours = OurProvider(workdir, database, args.redis_url if use_redis else "", args.workers,
                       cleanup)
    say(f"ours: migrating and seeding a {database.kind} database")
    ours.migrate()
    seeded = ours.seed()
    say(f"ours: mam-idp serve --workers {args.workers} on {ours.url}")
    ours.start()
    sides = [ours]
    if skipped is None:
        sides.append(peer.PeerProvider(workdir, seeded, cleanup))
        say(f"peer: oidc-provider on {sides[1].url}")
        sides[1].start()
    for side in sides:
        side.endpoints = Browser(side.url).get("/.well-known/openid-configuration").json()
        browser = Browser(side.url)
        side.session_for(browser)
        side.cookies = dict(browser.cookies)
        load.code_flow(side, browser)  # the whole flow works before anything is measured
        browser.close()

    results: dict = {}
    for number, name in enumerate(endpoints):
        # Who goes first alternates, so that neither always meets a warmer machine.
        for side in sides if number % 2 == 0 else sides[::-1]:
            say(f"{name}: {side.name}")
            if name == load.CODE_FLOW:
                figures, first_errors = load.code_flow_run(side, args.flow_workers, args.duration)
                notes += [f"{side.name} code flow: {error}" for error in first_errors]
            else:
                request = load.endpoint_request(side, name)
                if args.warmup:
                    load.wrk(side, request, args.threads, args.connections, args.warmup)
                figures = load.wrk(side, request, args.threads, args.connections, args.duration)
            results.setdefault(name, {})[side.name] = figures.as_dict()
        if len(sides) == 2:
            peer_rate = results[name]["peer"]["per_second"]
            results[name]["ratio"] = results[name]["ours"]["per_second"] / peer_rate if peer_rate else None

    login = _login(args, ours, notes) if selected(args, "login") else None
    rss = {
        "ours_workers": [round(rss_mib(pid), 1) for pid in descendants(ours.running.pid)[1:]],
        "peer": round(rss_mib(sides[1].running.pid), 1) if len(sides) == 2 else None,
    }
    scale = _scale(args, ours) if selected(args, "scale") else None
    server_ceiling = None
    if selected(args, "ceiling"):
        say("server ceiling: a bare WSGI callable and an empty Flask view under the same server")
        body = Browser(ours.url).get("/.well-known/openid-configuration").text.encode()
        server_ceiling = ceiling.measure(args, workdir, body, cleanup)
    from idp.serve import DEFAULT_THREADS

    backing = f"{database.kind}" + (f" schema {database.schema}" if database.schema else "")
    backing += " + redis" if use_redis else ", in-process limits"
    return {
        "setup": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "ours": f"{args.workers} workers × {DEFAULT_THREADS} threads, {backing}",
            "peer": "skipped" if skipped else (
                f"oidc-provider {peer.installed_version()} (node {peer.node_version()}, "
                "one process, in-memory store)"),
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s"
                   + (f" after {args.warmup} s of warm-up" if args.warmup else ""),
            "code_flow": f"{args.flow_workers} Python browsers for {args.duration} s",
            "database": database.kind,
            "redis": use_redis,
            "workers": args.workers,
        },
        "endpoints": results,
        "login": login,
        "rss_mib": rss,
        "introspection_by_live_tokens": scale,
        "server_ceiling": server_ceiling,
        "notes": notes,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _login(args, ours: OurProvider, notes: list[str]) -> dict:
    say("login: argon2 in this process, then two-factor logins")
    # The machine's verifications per second, as many at once as the logins run.
    ceiling = argon2 = load.argon2_per_second(1.0 if args.quick else 2.0, args.login_workers)
    # Each member logs in once (a TOTP step is accepted once); enough of them for the time.
    members = ours.add_login_members(max(20, math.ceil(ceiling * args.duration * 1.5)))
    figures, first_errors = load.login_run(ours, members, args.login_workers, args.duration)
    notes += [f"login: {error}" for error in first_errors]
    return {
        "concurrency": args.login_workers,
        "per_second": figures.per_second,
        "p99_ms": figures.p99_ms,
        "logins": figures.requests,
        "errors": figures.errors,
        "cpu_ms_per_login": figures.cpu_ms_per_request,
        "argon2_per_second": argon2,
        "workers": args.workers,
        "ceiling_per_second": ceiling,
        "share_of_ceiling": figures.per_second / ceiling,
    }


def _scale(args, ours: OurProvider) -> list[dict]:
    points = []
    ours.empty_tokens()
    request = load.endpoint_request(ours, "introspection")  # one live token, kept throughout
    seconds = max(2, args.duration // 2)
    for size in args.scale_sizes:
        say(f"introspection at {size:,} live tokens: inserting")
        begin = time.perf_counter()
        live = ours.fill_tokens(size)
        inserted = time.perf_counter() - begin
        if args.warmup:
            load.wrk(ours, request, args.threads, args.connections, args.warmup)
        figures = load.wrk(ours, request, args.threads, args.connections, seconds)
        points.append({"live_tokens": live, "insert_seconds": round(inserted, 1),
                       **figures.as_dict()})
    return points


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        with Cleanup() as cleanup:
            figures = run(args, cleanup)
    except KeyboardInterrupt:
        print("interrupted; everything started is stopped", file=sys.stderr)
        return 130
    if args.json:
        import json

        print(json.dumps(figures))
    else:
        print(report.text(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
