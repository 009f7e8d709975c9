"""Dynamic registration against a running ``mam-idp serve``: an operator issues an initial
access token on the command line, a partner registers over HTTP and uses its new client
for client_credentials at once, in whichever worker process answers."""

from __future__ import annotations

import json

import pytest
import requests

from tests.live.server import SCRIPT, live_provider

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")


def test_a_client_registered_over_http_gets_tokens(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url) as provider:
        issued = provider.run("clients", "registration-token", "--uses", "1", "--json")
        assert issued.returncode == 0, issued.stderr
        initial = json.loads(issued.stdout)["initial_access_token"]

        discovery = requests.get(provider.url + "/.well-known/openid-configuration", timeout=10)
        metadata = discovery.json()
        registered = requests.post(
            metadata["registration_endpoint"],
            json={
                "client_name": "Live Shop",
                "redirect_uris": ["https://shop.example/callback"],
                "scope": "openid profile",
                "grant_types": ["authorization_code", "client_credentials"],
            },
            headers={"Authorization": f"Bearer {initial}"},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        client = registered.json()
        assert client["purposes"] == ["registration"]

        # Several requests, so both workers answer at least once in all likelihood.
        for _ in range(4):
            token = requests.post(
                metadata["token_endpoint"],
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
                timeout=10,
            )
            assert token.status_code == 200, token.text
        introspected = requests.post(
            metadata["introspection_endpoint"],
            data={"token": token.json()["access_token"]},
            auth=(client["client_id"], client["client_secret"]),
            timeout=10,
        )
        assert introspected.json()["active"] is True

        shown = requests.get(
            client["registration_client_uri"],
            headers={"Authorization": f"Bearer {client['registration_access_token']}"},
            timeout=10,
        )
        assert shown.status_code == 200 and shown.json()["client_name"] == "Live Shop"

        # The token allowed one registration.
        again = requests.post(
            metadata["registration_endpoint"],
            json={"client_name": "Second", "redirect_uris": ["https://shop.example/cb"]},
            headers={"Authorization": f"Bearer {initial}"},
            timeout=10,
        )
        assert again.status_code == 401
        assert "invalid_token" in again.headers["WWW-Authenticate"]
