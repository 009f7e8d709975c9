"""oidcc-basic-certification-test-plan: ``oidcc-idtoken-unsigned`` (OP-IDToken-none).

The suite registers a client asking for unsigned ID tokens (``alg`` ``none``) and
skips the test when discovery does not offer ``none``, which is allowed for
certification. Here: discovery does not offer it, a registration asking for it is
refused with ``invalid_client_metadata`` (RFC 7591 §3.2.2), and a registration that
names no algorithm gets RS256 (OIDC Dynamic Client Registration §2).
"""

from __future__ import annotations

import json

from idp.services.dynamic_registration import issue_initial_access_token
from tests.factories import make_partner

DOCUMENT = {
    "client_name": "Conformance RP",
    "redirect_uris": ["https://partner.example/callback"],
    "scope": "openid email",
}


def register(suite, document: dict):
    with suite.oauth.app.app_context():
        token = issue_initial_access_token(make_partner("Suite GmbH", "partner_company").id)
    register_path = suite.metadata()["registration_endpoint"].removeprefix(suite.issuer)
    return suite.http.post(
        register_path,
        data=json.dumps(document),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_oidcc_idtoken_unsigned(suite):
    algorithms = suite.metadata()["id_token_signing_alg_values_supported"]
    assert "none" not in algorithms and "RS256" in algorithms

    refused = register(suite, {**DOCUMENT, "id_token_signed_response_alg": "none"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_client_metadata"

    registered = register(suite, DOCUMENT)
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["id_token_signed_response_alg"] == "RS256"
