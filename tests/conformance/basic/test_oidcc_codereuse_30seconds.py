"""oidcc-basic-certification-test-plan: ``oidcc-codereuse-30seconds`` (OP-OAuth-2nd-30s,
OP-OAuth-2nd-Revokes).

The code is exchanged, then sent again 30 seconds later (still within its
lifetime): ``invalid_grant``, and everything issued from the code is revoked
(RFC 6749 §4.1.2, §10.5): UserInfo refuses the access token, the token endpoint
the refresh token.
"""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

from idp.models.types import utcnow
from tests.conformance import checks


def test_oidcc_codereuse_30seconds(suite, rp, logged_in):
    flow = suite.run(rp, scope="openid offline_access", prompt="consent")
    assert "refresh_token" in flow.tokens
    later = utcnow() + timedelta(seconds=30)
    with patch("idp.oauth.authorization_code.utcnow", lambda: later):
        checks.check_token_error(suite.oauth.exchange(rp, flow.code), "invalid_grant")

    headers = {"Authorization": f"Bearer {flow.access_token}"}
    refused = suite.http.get("/oauth/userinfo", headers=headers)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    refreshed = suite.oauth.token(
        rp, grant_type="refresh_token", refresh_token=flow.tokens["refresh_token"]
    )
    checks.check_token_error(refreshed, "invalid_grant")
