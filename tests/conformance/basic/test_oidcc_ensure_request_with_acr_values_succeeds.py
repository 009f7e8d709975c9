"""oidcc-basic-certification-test-plan: ``oidcc-ensure-request-with-acr-values-succeeds``
(OP-Req-acr_values).

``acr_values`` with the values of the discovery's ``acr_values_supported``
(OIDC Core §3.1.2.1): the flow succeeds, and the ID token's ``acr`` is one of
the values asked for (§2).
"""

from __future__ import annotations


def test_oidcc_ensure_request_with_acr_values_succeeds(suite, rp, logged_in):
    supported = suite.metadata()["acr_values_supported"]
    assert supported
    flow = suite.run(rp, acr_values=" ".join(supported))
    assert flow.id_token.claims["acr"] in supported
