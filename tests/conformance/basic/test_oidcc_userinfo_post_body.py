"""oidcc-basic-certification-test-plan: ``oidcc-userinfo-post-body`` (OP-UserInfo-Body).

UserInfo answers a POST with the access token as the form parameter
``access_token`` (RFC 6750 §2.2); the suite allows servers to refuse that, this
one accepts it and answers as for the header.
"""

from __future__ import annotations


def test_oidcc_userinfo_post_body(suite, rp, logged_in):
    flow = suite.run(rp, scope="openid email")
    assert suite.userinfo(flow, in_body=True) == suite.userinfo(flow)
