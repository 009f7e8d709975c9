"""oidcc-basic-certification-test-plan: ``oidcc-codereuse`` (OP-OAuth-2nd).

The code is exchanged, then sent again at once: the second exchange gets 400
``invalid_grant`` as JSON (RFC 6749 §5.2, OIDC Core §3.1.3.4); codes are single use
(RFC 6749 §4.1.2).
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_codereuse(suite, rp, logged_in):
    flow = suite.run(rp)
    checks.check_token_error(suite.oauth.exchange(rp, flow.code), "invalid_grant")
