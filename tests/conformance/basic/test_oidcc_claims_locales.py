"""oidcc-basic-certification-test-plan: ``oidcc-claims-locales`` (OP-Req-claims_locales).

``claims_locales=se`` (OIDC Core §5.2) must at least not cause an error: the flow
succeeds and UserInfo answers as usual.
"""

from __future__ import annotations


def test_oidcc_claims_locales(suite, rp, logged_in):
    flow = suite.run(rp, scope="openid profile", claims_locales="se")
    assert suite.userinfo(flow)["given_name"] == "Anna"
