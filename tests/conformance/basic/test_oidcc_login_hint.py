"""oidcc-basic-certification-test-plan: ``oidcc-login-hint`` (OP-Req-login_hint).

``login_hint`` (OIDC Core §3.1.2.1) must not cause an error. A member who is not
logged in sees the login page with the hinted address already filled in, logs in,
and the flow ends with tokens for them.
"""

from __future__ import annotations

from tests.login_flow import h1


def test_oidcc_login_hint(suite, rp, member_id):
    email = suite.oauth.credentials[member_id][0]
    flow, login_page = suite.through_login(rp, member_id, login_hint=email)
    assert h1(login_page) == "Log in with Miles & More"
    assert f'value="{email}"' in login_page
    claims = suite.userinfo(suite.exchange(rp, flow))
    assert claims["sub"] == flow.id_token.claims["sub"]
