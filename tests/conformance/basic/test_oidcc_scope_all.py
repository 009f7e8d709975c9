"""oidcc-basic-certification-test-plan: ``oidcc-scope-all`` (OP-scope-All).

The client asks for ``scope=openid address email phone profile``; once the member allows it, UserInfo
releases the claims of those scopes (OIDC Core §5.4) in their standard types
(§5.1), under the ID token's ``sub``, and none of a scope not asked for.
"""

from __future__ import annotations

from tests.conformance import checks

SCOPE = "openid address email phone profile"


def test_oidcc_scope_all(suite, rp, logged_in):
    flow = suite.run(rp, scope=SCOPE)
    claims = suite.userinfo(flow)
    checks.check_scope_claims(
        claims,
        SCOPE,
        {"name", "email", "email_verified", "address", "phone_number", "phone_number_verified"},
    )
