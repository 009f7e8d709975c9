"""oidcc-basic-certification-test-plan: ``oidcc-userinfo-post-header`` (OP-UserInfo-Header).

UserInfo answers a POST with the access token in the ``Authorization: Bearer``
header (OIDC Core §5.3.1, RFC 6750 §2.1) exactly as it answers a GET.
"""

from __future__ import annotations


def test_oidcc_userinfo_post_header(suite, rp, logged_in):
    flow = suite.run(rp, scope="openid email")
    assert suite.userinfo(flow, method="POST") == suite.userinfo(flow, method="GET")
