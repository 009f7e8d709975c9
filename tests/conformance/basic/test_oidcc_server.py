"""oidcc-basic-certification-test-plan: ``oidcc-server`` (OP-Response-code).

The happy flow with ``response_type=code`` and ``client_secret_basic``: the code
comes back with our state and ``iss`` and is long and random enough; the token
response is a Bearer token with ``expires_in``, not cached; the ID token is
signed with a published key and carries the right ``iss``, ``aud``, ``nonce``,
times and ``at_hash``, and no member claims nobody asked for (OIDC Core §5.4);
UserInfo answers the access token. A relying-party library (Authlib) accepts
the same ID token.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_server(suite, rp, logged_in):
    flow = suite.run(rp)
    assert flow.id_token.header["alg"] == "RS256"
    checks.check_only_requested_claims(flow.id_token)
    suite.rp_library_accepts(rp, flow)
    suite.userinfo(flow)
