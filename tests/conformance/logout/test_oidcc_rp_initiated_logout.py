"""oidcc-rp-initiated-logout-certification-test-plan: ``oidcc-rp-initiated-logout``.

After a normal authorization the member is sent to the end_session_endpoint with
the ID token as ``id_token_hint``, a registered ``post_logout_redirect_uri`` and a
``state`` (RP-Initiated Logout 1.0 §2): the OP logs the member out and redirects
to that URI with the same ``state`` and no other parameter (§3); a ``prompt=none``
request afterwards gets ``login_required``. The OP takes the request by GET and
by a form POST from the partner's page alike (§2).
"""

from __future__ import annotations

import pytest

from tests.conformance.logout.steps import (
    check_logged_out,
    check_post_logout_redirect,
    end_session,
    logout_request,
)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_oidcc_rp_initiated_logout(suite, rp, signed_in, method):
    request = logout_request(signed_in)
    check_post_logout_redirect(end_session(suite, request, method), request)
    check_logged_out(suite, rp)
