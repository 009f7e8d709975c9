"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-bad-post-logout-redirect-uri``.

A valid hint but a ``post_logout_redirect_uri`` the client never registered: the
OP must not redirect, neither there nor to the registered URI (RP-Initiated
Logout 1.0 §3); it shows an error page.
"""

from __future__ import annotations

from tests.conformance.logout.steps import check_error_page, end_session, logout_request


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(suite, rp, signed_in):
    request = logout_request(signed_in, post_logout_redirect_uri="https://evil.example/logout")
    check_error_page(end_session(suite, request))
