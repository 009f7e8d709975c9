"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-no-post-logout-redirect-uri``.

``id_token_hint`` and ``state`` but no ``post_logout_redirect_uri``: the OP logs the
member out and shows its own "You are logged out" page, redirecting nowhere
(RP-Initiated Logout 1.0 §2, §4).
"""

from __future__ import annotations

from tests.conformance.logout.steps import (
    check_logged_out,
    check_logged_out_page,
    end_session,
    logout_request,
)


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(suite, rp, signed_in):
    response = end_session(suite, logout_request(signed_in, post_logout_redirect_uri=None))
    check_logged_out_page(response)
    check_logged_out(suite, rp)
