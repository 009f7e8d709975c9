"""oidcc-rp-initiated-logout-certification-test-plan: ``oidcc-rp-initiated-logout-no-params``.

The end_session_endpoint with no parameters at all: nothing says who asks, so the
OP asks the member (RP-Initiated Logout 1.0 §2: it "SHOULD ask the End-User"),
then logs them out on its own page, redirecting nowhere.
"""

from __future__ import annotations

from tests.conformance.logout.steps import (
    check_logged_out,
    check_logged_out_page,
    check_still_logged_in,
    confirm,
    end_session,
)


def test_oidcc_rp_initiated_logout_no_params(suite, rp, signed_in):
    asked = end_session(suite, {})
    check_still_logged_in(suite, rp)
    check_logged_out_page(confirm(suite, asked))
    check_logged_out(suite, rp)
