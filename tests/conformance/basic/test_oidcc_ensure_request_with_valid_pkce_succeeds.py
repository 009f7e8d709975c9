"""oidcc-basic-certification-test-plan: ``oidcc-ensure-request-with-valid-pkce-succeeds``.

PKCE (RFC 7636) with S256, driven by a relying-party library (Authlib's client):
it makes the challenge, the member authorizes, and the exchange with the
verifier succeeds (§4.5, §4.6). The same code with a wrong verifier would not
have been accepted: a second code, exchanged with another verifier, is refused
with ``invalid_grant``.
"""

from __future__ import annotations

import secrets

from tests.conformance import checks
from tests.conformance.rp_library import library_session
from tests.oauth.conftest import redirect_params


def test_oidcc_ensure_request_with_valid_pkce_succeeds(suite, rp, logged_in):
    assert suite.metadata()["code_challenge_methods_supported"] == ["S256"]
    library = library_session(
        suite.oauth.app, rp, scope="openid email", code_challenge_method="S256"
    )
    verifier = secrets.token_urlsafe(48)
    url, state = library.create_authorization_url(
        suite.metadata()["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
    )
    callback = suite.follow(suite.http.get(url.removeprefix(suite.issuer)))
    assert redirect_params(callback)["state"] == state
    token = library.fetch_token(
        suite.metadata()["token_endpoint"],
        authorization_response=callback.headers["Location"],
        code_verifier=verifier,
    )
    claims = checks.verify_id_token(
        token["id_token"],
        suite.keys(),
        issuer=suite.issuer,
        client_id=rp.client_id,
        nonce="n-0S6_WzA2Mj",
        access_token=token["access_token"],
    )
    assert claims.claims["sub"]

    # The verifier is checked: another code, another verifier, no tokens.
    other = library.create_authorization_url(
        suite.metadata()["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48)
    )[0]
    code = redirect_params(suite.follow(suite.http.get(other.removeprefix(suite.issuer))))["code"]
    refused = suite.oauth.exchange(rp, code, code_verifier=verifier)
    checks.check_token_error(refused, "invalid_grant")
