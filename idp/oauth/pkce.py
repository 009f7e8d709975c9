"""PKCE at the token endpoint (RFC 7636 §4.5-4.6), S256 only.

The authorization side (challenge present for public clients, S256, format) is
``authorize.checks.check_pkce``; here the verifier is checked against the code's
challenge. A public client must always send a verifier.
"""

from __future__ import annotations

import hmac

from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge


def compare_s256(code_verifier: str, code_challenge: str) -> bool:
    """BASE64URL(SHA256(verifier)) == challenge, compared in constant time."""
    expected = create_s256_code_challenge(code_verifier)
    return hmac.compare_digest(expected.encode(), code_challenge.encode())


class S256CodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256}

    def __init__(self):
        super().__init__(required=True)

    def __call__(self, grant):
        # Only the token side: the authorization request has its own ordered checks.
        grant.register_hook("after_validate_token_request", self.validate_code_verifier)
