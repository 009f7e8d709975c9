"""``mam-idp serve``: the production server, several processes on one database."""

from __future__ import annotations

import os

import pytest
import requests

from tests.live.server import SCRIPT, live_provider

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")


def test_serve_answers_from_several_worker_processes(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url) as provider:
        assert requests.get(provider.url + "/healthz", timeout=5).json() == {"status": "ok"}
        discovery = requests.get(provider.url + "/.well-known/openid-configuration", timeout=5)
        assert discovery.status_code == 200
        assert discovery.json()["issuer"] == provider.url
        status = provider.stop()
    assert status == 0, provider.output()
    assert "Booting worker" in provider.output()
    assert provider.output().count("Booting worker") >= 2


def test_serve_refuses_a_bad_setting_before_any_worker_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update(IDP_INSTANCE_PATH=str(tmp_path), IDP_ISSUER="http://login.example.com")
    import subprocess

    done = subprocess.run(
        [str(SCRIPT), "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 78
    assert "IDP_ISSUER" in done.stderr
    assert "Booting worker" not in done.stderr
