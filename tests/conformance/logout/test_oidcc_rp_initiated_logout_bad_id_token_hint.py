"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-bad-id-token-hint``.

An ``id_token_hint`` with the right claims but signed by the suite's own key
(its ``kid`` unknown here): the signature is not ours (RP-Initiated Logout 1.0 §2),
so no redirect; an error page, and the member stays logged in.
"""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conformance.logout.steps import (
    check_error_page,
    check_still_logged_in,
    end_session,
    logout_request,
)


def test_oidcc_rp_initiated_logout_bad_id_token_hint(suite, rp, signed_in):
    suite_key = RSAKey.generate_key(2048, parameters={"kid": "suite"}, private=True)
    fake = jwt.encode({"alg": "RS256", "kid": "suite"}, signed_in.id_token.claims, suite_key)
    check_error_page(end_session(suite, logout_request(signed_in, id_token_hint=fake)))
    check_still_logged_in(suite, rp)
