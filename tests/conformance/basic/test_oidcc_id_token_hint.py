"""oidcc-basic-certification-test-plan: ``oidcc-id-token-hint`` (OP-Req-id_token_hint).

A first authorization, then a second with ``prompt=none`` and the first ID token
as ``id_token_hint`` (OIDC Core §3.1.2.1): it names the member who is logged in,
so the code comes back at once, for the same ``sub`` and ``auth_time``.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_id_token_hint(suite, rp, logged_in):
    first = suite.run(rp)
    second = suite.run(rp, prompt="none", id_token_hint=first.tokens["id_token"])
    checks.check_same_authentication(first.id_token, second.id_token)
