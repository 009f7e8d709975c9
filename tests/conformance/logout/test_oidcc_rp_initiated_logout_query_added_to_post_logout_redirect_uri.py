"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri``.

The registered ``post_logout_redirect_uri`` with ``?foo=bar`` added is another URI
(exact matching, RP-Initiated Logout 1.0 §3): no redirect, an error page.
"""

from __future__ import annotations

from tests.conformance.logout.steps import check_error_page, end_session, logout_request
from tests.conformance.suite import LOGGED_OUT


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(suite, rp, signed_in):
    request = logout_request(signed_in, post_logout_redirect_uri=LOGGED_OUT + "?foo=bar")
    check_error_page(end_session(suite, request))
