"""oidcc-rp-initiated-logout-certification-test-plan: ``oidcc-rp-initiated-logout-no-state``.

As ``oidcc-rp-initiated-logout`` without ``state``: the redirect to the
``post_logout_redirect_uri`` carries no ``state`` and no other parameter
(RP-Initiated Logout 1.0 §3), and the member is logged out.
"""

from __future__ import annotations

from tests.conformance.logout.steps import (
    check_logged_out,
    check_post_logout_redirect,
    end_session,
    logout_request,
)


def test_oidcc_rp_initiated_logout_no_state(suite, rp, signed_in):
    request = logout_request(signed_in, state=None)
    check_post_logout_redirect(end_session(suite, request), request)
    check_logged_out(suite, rp)
