"""oidcc-basic-certification-test-plan: ``oidcc-userinfo-get`` (OP-UserInfo-Endpoint).

UserInfo answers a GET with the access token in the ``Authorization: Bearer``
header (OIDC Core §5.3.1): JSON, the ID token's ``sub``, standard claims of the
right types (§5.1).
"""

from __future__ import annotations


def test_oidcc_userinfo_get(suite, rp, logged_in):
    flow = suite.run(rp, scope="openid profile email")
    claims = suite.userinfo(flow, method="GET")
    assert claims["email"] and claims["given_name"] == "Anna"
