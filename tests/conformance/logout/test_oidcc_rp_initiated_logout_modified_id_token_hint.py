"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-modified-id-token-hint``.

The ID token from the authorization with its header changed to ``alg`` ``none``
and the signature removed: not an ID token of this OP (RP-Initiated Logout 1.0 §2),
so no redirect to the ``post_logout_redirect_uri``; an error page, and the member
stays logged in.
"""

from __future__ import annotations

from tests.conformance.checks import unsigned_request_object
from tests.conformance.logout.steps import (
    check_error_page,
    check_still_logged_in,
    end_session,
    logout_request,
)


def test_oidcc_rp_initiated_logout_modified_id_token_hint(suite, rp, signed_in):
    unsigned = unsigned_request_object(signed_in.id_token.claims)
    check_error_page(end_session(suite, logout_request(signed_in, id_token_hint=unsigned)))
    check_still_logged_in(suite, rp)
