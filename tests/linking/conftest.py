"""Fixtures of the linking tests: the airline's ID service as a second instance of this
provider (a process of its own), a small upstream in this process, and the app
configured with both as ``IDP_LHG_PROVIDERS``.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from idp.config import check_providers
from idp.linking import metadata
from tests.linking.fake_upstream import FakeUpstream
from tests.linking.upstream import AirlineIdService
from tests.live.server import SCRIPT, free_port

ISSUER = "http://127.0.0.1:5000"


@pytest.fixture(scope="session")
def airline(tmp_path_factory):
    """Lufthansa's ID service: ``mam-idp run`` on its own SQLite file and port."""
    if not SCRIPT.exists():
        pytest.skip("mam-idp is not installed")
    service = AirlineIdService(tmp_path_factory.mktemp("airline"))
    try:
        service.start()
        yield service
    finally:
        service.close()


@pytest.fixture(scope="session")
def fake_upstream():
    upstream = FakeUpstream().start()
    yield upstream
    upstream.close()


@pytest.fixture(scope="session")
def down_issuer():
    """An issuer where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def providers(airline, fake_upstream, down_issuer):
    return [
        airline.provider_entry(ISSUER),
        {"airline": "swiss", "issuer": fake_upstream.url, "client_id": fake_upstream.client_id,
         "client_secret": "swiss-secret"},
        {"airline": "austrian", "issuer": down_issuer, "client_id": "c", "client_secret": "s"},
    ]


@pytest.fixture
def linking_app(app, providers, monkeypatch):
    """The session's app with the three airlines configured, for one test."""
    settings = replace(app.config["IDP"], lhg_providers=check_providers(providers),
                       upstream_timeout_seconds=2.0)
    monkeypatch.setitem(app.config, "IDP", settings)
    metadata.forget()
    yield app
    metadata.forget()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
