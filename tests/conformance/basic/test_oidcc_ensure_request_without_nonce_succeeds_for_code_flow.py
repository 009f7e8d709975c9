"""oidcc-basic-certification-test-plan: ``oidcc-ensure-request-without-nonce-succeeds-for-code-flow``
(OP-nonce-NoReq-code).

``nonce`` is optional in the code flow (OIDC Core §3.1.2.1): a request without
one gets a code, and the ID token then carries no ``nonce``.
"""

from __future__ import annotations


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(suite, rp, logged_in):
    flow = suite.run(rp, nonce=None)
    assert "nonce" not in flow.id_token.claims
