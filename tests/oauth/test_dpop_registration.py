"""``dpop_bound_access_tokens`` (RFC 9449 §5.2) through RFC 7591 registration, and the settings.

A client registered with it gets no token without a DPoP proof; the metadata
is shown back, changed with RFC 7592, and refused when it is not a boolean.
"""

from __future__ import annotations

import re

import pytest

from idp.config import ConfigError, load_settings
from tests.dpop_proofs import TOKEN_URL, DPoPKey
from tests.registration.conftest import Partners, basic, metadata


@pytest.fixture
def partners(app, client) -> Partners:
    return Partners(app, client)


def _service(partners, **fields) -> dict:
    document = metadata(grant_types=["client_credentials"], scope="openid", **fields)
    document.pop("redirect_uris", None)
    document.pop("response_types", None)
    response = partners.register(partners.initial_token(partners.partner()), document)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _token(client, registered, proof=None):
    headers = basic(registered["client_id"], registered["client_secret"])
    if proof is not None:
        headers["DPoP"] = proof
    return client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)


def test_a_client_registered_dpop_bound_gets_tokens_only_with_a_proof(client, partners):
    registered = _service(partners, dpop_bound_access_tokens=True)
    assert registered["dpop_bound_access_tokens"] is True
    refused = _token(client, registered)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    granted = _token(client, registered, DPoPKey.ec().proof("POST", TOKEN_URL))
    assert granted.status_code == 200
    assert granted.get_json()["token_type"] == "DPoP"


def test_by_default_a_client_is_not_dpop_bound(client, partners):
    registered = _service(partners)
    assert registered["dpop_bound_access_tokens"] is False
    assert _token(client, registered).get_json()["token_type"] == "Bearer"


@pytest.mark.parametrize("value", ["yes", 1, [True], {}])
def test_dpop_bound_access_tokens_must_be_a_boolean(partners, value):
    document = metadata(dpop_bound_access_tokens=value)
    response = partners.register(partners.initial_token(partners.partner()), document)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"IDP_DPOP_PROOF_SECONDS": "0"}, "IDP_DPOP_PROOF_SECONDS"),
        ({"IDP_DPOP_PROOF_SECONDS": "a minute"}, "IDP_DPOP_PROOF_SECONDS"),
        ({"IDP_DPOP_PROOF_SECONDS": "3600"}, "IDP_DPOP_PROOF_SECONDS"),
        ({"IDP_DPOP_REQUIRE_NONCE": "sometimes"}, "IDP_DPOP_REQUIRE_NONCE"),
    ],
)
def test_bad_dpop_settings_stop_the_start(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"IDP_INSTANCE_PATH": str(tmp_path), **environ})


def test_the_dpop_settings_are_read(tmp_path):
    settings = load_settings(
        {
            "IDP_INSTANCE_PATH": str(tmp_path),
            "IDP_DPOP_PROOF_SECONDS": "30",
            "IDP_DPOP_REQUIRE_NONCE": "true",
        }
    )
    assert settings.dpop_proof_seconds == 30
    assert settings.dpop_nonce_required is True
    defaults = load_settings({"IDP_INSTANCE_PATH": str(tmp_path)})
    assert (defaults.dpop_proof_seconds, defaults.dpop_nonce_required) == (60, False)


def test_the_portal_registers_a_dpop_bound_client(app, client):
    from tests.portal.conftest import Portal

    portal = Portal(app, client)
    _member, partner_id = portal.developer()
    page = portal.http.get(f"/developers/partners/{partner_id}/clients/new").get_data(as_text=True)
    assert "Require DPoP-bound tokens (RFC 9449)" in page
    assert portal.register(partner_id, public="y", dpop_bound_access_tokens="y").status_code == 302
    (registered,) = portal.clients_of(partner_id)
    assert registered.dpop_bound_access_tokens is True
    edit = portal.http.get(f"/developers/clients/{registered.client_id}").get_data(as_text=True)
    (box,) = re.findall(r'<input[^>]*name="dpop_bound_access_tokens"[^>]*>', edit)
    assert "checked" in box
