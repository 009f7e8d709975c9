"""A DPoP proof accepted by one server process is refused by another (RFC 9449 §11.1).

Two ``mam-idp serve`` processes on one database, with the same settings: the
second listens on another port but has the same issuer, so a proof's ``htu``
(the issuer's token endpoint URL) is right for both. The same proof goes to
one, then to the other. The replay cache is the database (``dpop_proofs``)
without Redis, and Redis when ``IDP_TEST_REDIS_URL`` is set.
"""

from __future__ import annotations

import os

import pytest
import requests
from sqlalchemy import func, select

from tests.dpop_proofs import DPoPKey
from tests.live.server import SCRIPT, free_port, live_provider, wait_until_answering

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")


@pytest.fixture(params=["database", "redis"])
def cache(request) -> str:
    """The replay cache's Redis URL ("" for the database)."""
    if request.param == "database":
        return ""
    url = os.environ.get("IDP_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("IDP_TEST_REDIS_URL is not set: the Redis replay cache is not tested")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at IDP_TEST_REDIS_URL cannot be reached: {exc}")
    return url


def _seed_service(provider) -> tuple[str, str]:
    from tests.factories import make_client, make_partner

    with provider.app().app_context():
        client, secret = make_client(
            make_partner("Replay Hotels"), grant_types=["client_credentials"], scope="openid"
        )
        return client.client_id, secret


def _proofs_in_database(provider) -> int:
    from idp.extensions import db
    from idp.models import DPoPProof

    with provider.app().app_context():
        return db.session.scalar(select(func.count(DPoPProof.id)))


def test_a_replayed_proof_is_refused_by_the_other_process(backend, cache, tmp_path):
    with live_provider(tmp_path, backend, cache) as provider:
        second_url = f"http://127.0.0.1:{free_port()}"
        second = provider.spawn("serve", "--port", second_url.rsplit(":", 1)[1], "--workers", "1")
        wait_until_answering(second.process, [second_url + "/healthz"], 60, second.output, "serve")
        client_id, secret = _seed_service(provider)
        key = DPoPKey.ec()
        token_url = provider.url + "/oauth/token"

        def ask(server: str, proof: str):
            return requests.post(
                server + "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
                headers={"DPoP": proof},
                timeout=10,
            )

        proof = key.proof("POST", token_url)
        first = ask(provider.url, proof)
        assert first.status_code == 200, first.text
        assert first.json()["token_type"] == "DPoP"

        replayed = ask(second_url, proof)
        assert replayed.status_code == 400, replayed.text
        assert replayed.json()["error"] == "invalid_dpop_proof"
        assert "used before" in replayed.json()["error_description"]

        # The second process accepts a fresh proof: it was the replay it refused.
        fresh = ask(second_url, key.proof("POST", token_url))
        assert fresh.status_code == 200, fresh.text
        assert _proofs_in_database(provider) == (0 if cache else 2)
