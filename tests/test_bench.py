"""The benchmark harness runs and reports (a small population, one cheap benchmark)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_and_prints_figures():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "crypto.field", "login.lookup_email", "--members", "50"]
        + ["--budget", "1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    by_name = {r["name"]: r for r in report["results"]}
    assert {"setup.populate", "crypto.encrypt", "crypto.decrypt", "login.lookup_email"} <= set(
        by_name
    )
    lookup = by_name["login.lookup_email"]
    assert lookup["n"] == 50 and 0 < lookup["median_ms"] <= lookup["p95_ms"]
    assert report["peak_rss_mb"] > 0


def test_bench_refuses_an_unknown_benchmark():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "nothing.here"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown benchmark: nothing.here" in result.stderr


def test_protocol_benchmark_runs_every_round_trip():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "protocol.round_trips", "--members", "10"]
        + ["--budget", "0.5", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    by_name = {r["name"]: r for r in json.loads(result.stdout)["results"]}
    for name in ("authorize", "token_code", "token_refresh", "userinfo", "miles_api", "introspect"):
        assert by_name[f"protocol.{name}"]["n"] > 0


# -- the side-by-side run (python -m bench.side_by_side) ------------------------------------

SIDE_BY_SIDE_COLUMNS = [
    "endpoint",
    "ours/s",
    "peer/s",
    "ratio",
    "ours p99 ms",
    "peer p99 ms",
    "ours errors",
    "peer errors",
    "ours CPU ms/req",
    "peer CPU ms/req",
]


def _number(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_side_by_side_prints_one_row_per_endpoint_for_both_providers():
    from bench.side_by_side import peer

    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (make bench-tools installs it)")
    missing = peer.why_not_available()
    if missing:
        pytest.skip(f"the peer cannot run: {missing}")
    result = subprocess.run(
        [sys.executable, "-m", "bench.side_by_side", "--only", "discovery", "--duration", "1"]
        + ["--warmup", "0", "--connections", "4", "--sqlite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-8000:]
    lines = result.stdout.splitlines()
    assert "sqlite" in lines[0] and "oidc-provider 9." in lines[0]
    header = next(line for line in lines if line.startswith("endpoint"))
    assert re.split(r"\s{2,}", header.strip()) == SIDE_BY_SIDE_COLUMNS
    rows = [line.split() for line in lines if line.startswith("discovery")]
    assert len(rows) == 1 and len(rows[0]) == len(SIDE_BY_SIDE_COLUMNS)
    ours_rate, peer_rate, ratio, _, _, ours_errors, peer_errors, ours_cpu, peer_cpu = map(
        _number, rows[0][1:]
    )
    assert ours_rate > 0 and peer_rate > 0
    assert abs(ratio - ours_rate / peer_rate) <= 0.01  # printed with two decimals
    assert ours_errors == 0 and peer_errors == 0
    assert ours_cpu > 0 and peer_cpu > 0
    rss = next(line for line in lines if line.startswith("RSS per worker: "))
    assert re.fullmatch(
        r"RSS per worker: [\d.]+, [\d.]+ MiB \(peer, one process: [\d.]+ MiB\)", rss
    )
    assert not any(line.startswith(("login", "introspection")) for line in lines)


def test_cpu_time_counts_the_children_of_a_process():
    from bench.side_by_side.processes import cpu_seconds

    # A parent that only waits, and its child that burns half a second of CPU and ends:
    # counted while it runs, and through the parent once it has ended.
    burn = "import time; end = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys, time; subprocess.run([sys.executable, "
            f"'-c', {burn!r}]); time.sleep(30)",
        ],
    )
    try:
        deadline = time.monotonic() + 20
        while cpu_seconds(parent.pid) < 0.45 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cpu_seconds(parent.pid) >= 0.45
    finally:
        parent.kill()
        parent.wait()


def test_the_server_ceiling_serves_the_same_bytes_under_the_production_settings(tmp_path):
    from argparse import Namespace

    from bench.side_by_side import ceiling, report
    from bench.side_by_side.browser import Browser
    from bench.side_by_side.processes import Cleanup, free_port, wait_until

    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (make bench-tools installs it)")
    body = json.dumps({"issuer": "http://127.0.0.1:5000", "padding": "x" * 900}).encode()
    # Each application answers the document's bytes exactly, under `mam-idp serve`'s options.
    (tmp_path / "body.json").write_bytes(body)
    with Cleanup() as cleanup:
        for app in ceiling.APPS:
            port = free_port()
            running = cleanup.start(
                app,
                [sys.executable, "-m", "bench.side_by_side.ceiling", "--app", app,
                 "--port", str(port), "--workers", "1", "--body", str(tmp_path / "body.json")],
                tmp_path / f"{app}.log", ceiling._environment(), ROOT,
            )
            wait_until(lambda p=port: Browser(f"http://127.0.0.1:{p}").get("/").status == 200,
                       running, timeout=60)
            answer = Browser(f"http://127.0.0.1:{port}").get("/")
            assert answer.body == body and answer.headers["content-type"].startswith("application/json")
            assert "gthread" in running.output()  # gunicorn's own start-up line names the worker kind
            running.stop()
        args = Namespace(workers=1, warmup=0, threads=1, connections=2, duration=1)
        figures = ceiling.measure(args, tmp_path, body, cleanup)
    assert set(figures) == {"wsgi", "flask"}
    for point in figures.values():
        assert point["requests"] > 0 and point["errors"] == 0 and point["cpu_ms_per_request"] > 0
    lines = report._ceiling_lines({
        "server_ceiling": figures,
        "endpoints": {"discovery": {"peer": {"per_second": 1000.0}}},
    })
    assert lines[2].startswith("  a bare WSGI callable: ") and "× the peer's discovery" in lines[2]
    assert lines[3].startswith("  an empty Flask view: ")
