"""A running ``mam-idp serve``: readiness, metrics over every worker, logs without secrets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live.server import SCRIPT, live_provider
from tests.secret_journey import Browser, leaked, prepare
from tests.test_ops import sample

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

DISCOVERY = "/.well-known/openid-configuration"
DISCOVERY_SERIES = dict(endpoint="oauth.discovery", method="GET", status="200")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readyz_is_200_with_the_services_up(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url) as provider:
        answer = requests.get(provider.url + "/readyz", timeout=10)
        assert answer.status_code == 200, answer.text
        checks = answer.json()["checks"]
        assert checks["database"] == "ok"
        assert checks["redis"] == ("ok" if redis_url else "not_configured")


def test_readyz_is_503_while_redis_is_down(tmp_path):
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    with live_provider(tmp_path, "sqlite", dead) as provider:
        assert requests.get(provider.url + "/healthz", timeout=10).status_code == 200
        answer = requests.get(provider.url + "/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "redis": "failed"},
        }


def per_worker_counts(metrics_dir, tmp_path) -> dict[str, float]:
    """Discovery requests each worker counted, read from its own counter file."""
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import CollectorRegistry

    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        alone = tmp_path / f"alone-{path.stem}"
        alone.mkdir(exist_ok=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        value = registry.get_sample_value("mam_idp_http_requests_total", DISCOVERY_SERIES)
        counts[path.stem] = value or 0.0
    return counts


def test_metrics_count_the_requests_of_every_worker(backend, redis_url, tmp_path):
    instance = tmp_path / "instance"
    stale = instance / "metrics" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left over from an earlier run")
    with live_provider(tmp_path, backend, redis_url) as provider:
        assert not stale.exists()  # emptied at start

        def fetch(_):
            # A connection of its own each time, so the workers take turns accepting.
            return requests.get(provider.url + DISCOVERY, timeout=10).status_code

        sent = 0
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(8) as pool:
            while time.monotonic() < deadline:
                statuses = list(pool.map(fetch, range(40)))
                assert statuses == [200] * 40
                sent += 40
                counts = per_worker_counts(instance / "metrics", tmp_path)
                if len([c for c in counts.values() if c > 0]) >= 2 or sent >= 400:
                    break
        busy = [c for c in counts.values() if c > 0]
        assert len(busy) >= 2, counts  # both workers answered some
        text = requests.get(provider.url + "/metrics", timeout=10).text
        assert sample(text, "mam_idp_http_requests_total", **DISCOVERY_SERIES) == sent
        assert "Traceback" not in provider.output()  # the child_exit hook included
        assert sum(counts.values()) == sent
        assert "mam_idp_http_request_duration_seconds_bucket" in text
        assert 'mam_idp_partner_notifications{state="pending"}' in text

        # A worker that ends (here: told to by a signal) is replaced; what it counted stays.
        gone = int(max(counts, key=counts.get).removeprefix("counter_"))
        booted = provider.output().count("Booting worker")
        os.kill(gone, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while provider.output().count("Booting worker") == booted:
            assert time.monotonic() < deadline, provider.output()
            time.sleep(0.2)
        text = requests.get(provider.url + "/metrics", timeout=10).text
        assert sample(text, "mam_idp_http_requests_total", **DISCOVERY_SERIES) == sent


@pytest.mark.parametrize("command", ["serve", "run"])
def test_no_secret_reaches_the_servers_output(backend, redis_url, tmp_path, command):
    with live_provider(tmp_path, backend, redis_url) as provider:
        if command == "run":  # Werkzeug's server, whose request lines kept query strings
            provider.stop()
            provider.start("run", "--port", str(provider.port))
        journey = prepare(provider.app())
        journey.run(Browser(base_url=provider.url))
        provider.stop()
        output = provider.output()
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "idp.access"]
    assert {"/login/verify", "/oauth/token", "/oauth/logout"} <= {r["path"] for r in access}
    assert all(r["request_id"] for r in access)
    ids = [r["request_id"] for r in access]
    assert len(ids) == len(set(ids))  # one line per request, not one per handler
    if command == "run":
        assert any(r["logger"] == "werkzeug" for r in records)  # its lines pass the filter
    else:
        assert any(r["logger"] == "gunicorn.error" for r in records)
    assert leaked(journey, output) == {}
