"""The benchmark harness runs and reports (a small population, one cheap benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
