"""oidcc-basic-certification-test-plan: ``oidcc-refresh-token``.

With ``scope=openid offline_access`` and ``prompt=consent`` (OIDC Core §11) the
token response carries a refresh token of allowed characters; a relying-party
library (Authlib's client) refreshes it: a new Bearer access token with
``expires_in``, the response not cached, and an ID token for
the same member and login as the first (§12.2); UserInfo takes the new token.
A refresh token is bound to its client (RFC 6749 §6): another client's refresh
token presented by this one is refused with ``invalid_grant``.
"""

from __future__ import annotations

from tests.conformance import checks
from tests.conformance.rp_library import library_session

SCOPE = "openid offline_access"


def test_oidcc_refresh_token(suite, rp, logged_in):
    assert "refresh_token" in suite.metadata()["grant_types_supported"]
    first = suite.run(rp, scope=SCOPE, prompt="consent")
    assert "refresh_token" in first.tokens

    library = library_session(suite.oauth.app, rp)
    refreshed = library.refresh_token(
        suite.metadata()["token_endpoint"],
        refresh_token=first.tokens["refresh_token"],
        scope=SCOPE,  # the suite repeats the scope (RFC 6749 §6: at most what was granted)
    )
    assert refreshed["token_type"].lower() == "bearer" and refreshed["expires_in"] > 0
    assert refreshed["access_token"] != first.access_token
    assert set(refreshed["scope"].split()) == set(SCOPE.split())
    checks.check_refreshed_id_token(first.id_token, suite.verify(rp, refreshed["id_token"]))
    first.tokens = refreshed
    suite.userinfo(first)

    # The response itself, as the suite checks it: JSON, not to be cached. Refresh
    # tokens rotate (RFC 9700 §4.14.2), so the newest one is the one to use.
    newest = refreshed["refresh_token"]
    response = suite.oauth.token(rp, grant_type="refresh_token", refresh_token=newest)
    checks.check_token_response(response, expect_id_token=False)

    # Client 2's refresh token at client 1.
    second_rp = suite.client(partner_name="Second Partner")
    second = suite.run(second_rp, scope=SCOPE, prompt="consent")
    stolen = suite.oauth.token(
        rp, grant_type="refresh_token", refresh_token=second.tokens["refresh_token"]
    )
    checks.check_token_error(stolen, "invalid_grant")
