"""oidcc-rp-initiated-logout-certification-test-plan: ``oidcc-rp-initiated-logout-only-state``.

Only ``state``: without a hint or a return address the OP asks the member, logs
them out on its own page, and does not redirect (a ``state`` alone names no
place to return to, RP-Initiated Logout 1.0 §3).
"""

from __future__ import annotations

import secrets

from tests.conformance.logout.steps import (
    check_logged_out,
    check_logged_out_page,
    confirm,
    end_session,
)


def test_oidcc_rp_initiated_logout_only_state(suite, rp, signed_in):
    asked = end_session(suite, {"state": secrets.token_urlsafe(16)})
    check_logged_out_page(confirm(suite, asked))
    check_logged_out(suite, rp)
