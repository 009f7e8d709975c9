"""oidcc-basic-certification-test-plan: ``oidcc-display-page`` (OP-display-page).

``display=page`` (OIDC Core §3.1.2.1) must not cause an error: a member who is not
logged in gets the ordinary login page, and the flow ends with a code and tokens.
"""

from __future__ import annotations

from tests.login_flow import h1


def test_oidcc_display_page(suite, rp, member_id):
    flow, login_page = suite.through_login(rp, member_id, display="page")
    assert h1(login_page) == "Log in with Miles & More"
    suite.exchange(rp, flow)
