"""oidcc-basic-certification-test-plan: ``oidcc-scope-address`` (OP-scope-address).

The client asks for ``scope=openid address``; once the member allows it, UserInfo
releases the claims of those scopes (OIDC Core §5.4) in their standard types
(§5.1), under the ID token's ``sub``, and none of a scope not asked for.
"""

from __future__ import annotations

from tests.conformance import checks

SCOPE = "openid address"


def test_oidcc_scope_address(suite, rp, logged_in):
    flow = suite.run(rp, scope=SCOPE)
    claims = suite.userinfo(flow)
    checks.check_scope_claims(claims, SCOPE, {"address"})
    assert claims["address"]["country"] == "DE"
    assert claims["address"]["locality"] == "Frankfurt am Main"
