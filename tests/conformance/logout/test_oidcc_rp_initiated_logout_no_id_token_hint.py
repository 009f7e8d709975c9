"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-no-id-token-hint``.

A ``post_logout_redirect_uri`` (and ``state``) without ``id_token_hint`` or
``client_id``: the OP cannot tell whose URI it is, so it must not redirect
(RP-Initiated Logout 1.0 §3); it shows an error page, and the member stays
logged in.
"""

from __future__ import annotations

from tests.conformance.logout.steps import (
    check_error_page,
    check_still_logged_in,
    end_session,
    logout_request,
)


def test_oidcc_rp_initiated_logout_no_id_token_hint(suite, rp, signed_in):
    check_error_page(end_session(suite, logout_request(signed_in, id_token_hint=None)))
    check_still_logged_in(suite, rp)
