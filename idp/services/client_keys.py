"""A client's own keys (``jwks``) for ``private_key_jwt``: public signing keys we can verify.

RFC 7517 §5 key sets of RSA (2048 bits or more, RS256) or P-256 (ES256) keys,
for signatures only. A private or symmetric key is refused outright: a partner
who sends one has leaked it, and this provider must never hold it.
"""

from __future__ import annotations

from joserfc.jwk import KeySet

from idp.services.errors import InvalidInput

#: JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
PRIVATE_KEY_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
KEY_ALGORITHMS = {"RSA": "RS256", "EC": "ES256"}
MAX_KEYS = 10
MIN_RSA_BITS = 2048


def check_jwks(jwks) -> dict:
    """A JWK set (RFC 7517 §5) of public signing keys this provider can verify with."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not 0 < len(keys) <= MAX_KEYS:
        raise InvalidInput(f"jwks is a JWK set of 1 to {MAX_KEYS} keys.", "jwks")
    kids = []
    for key in keys:
        if not isinstance(key, dict):
            raise InvalidInput("Each key of jwks is a JWK object.", "jwks")
        _check_public_key(key)
        kids.append(key.get("kid"))
    if len(keys) > 1 and (None in kids or len(set(kids)) != len(kids)):
        raise InvalidInput("Keys of a set of several need distinct kid values.", "jwks")
    try:
        KeySet.import_key_set(jwks)
    except Exception as exc:  # joserfc raises many kinds for a malformed key
        raise InvalidInput("A key of jwks cannot be read.", "jwks") from exc
    return jwks


def _check_public_key(key: dict) -> None:
    kty = key.get("kty")
    if kty not in KEY_ALGORITHMS:
        raise InvalidInput("Keys are RSA or EC (P-256) public keys.", "jwks")
    if PRIVATE_KEY_MEMBERS & set(key):
        raise InvalidInput("jwks holds public keys only: never send a private key.", "jwks")
    if key.get("alg", KEY_ALGORITHMS[kty]) != KEY_ALGORITHMS[kty]:
        raise InvalidInput(f"An {kty} key signs with {KEY_ALGORITHMS[kty]}.", "jwks")
    if key.get("use", "sig") != "sig" or not set(key.get("key_ops") or ["verify"]) <= {"verify"}:
        raise InvalidInput("Keys in jwks are for signatures.", "jwks")
    if "kid" in key and (not isinstance(key["kid"], str) or not 0 < len(key["kid"]) <= 200):
        raise InvalidInput("A kid is a short string.", "jwks")
    if kty == "EC" and key.get("crv") != "P-256":
        raise InvalidInput("EC keys use the P-256 curve.", "jwks")
    if kty == "RSA":
        modulus = key.get("n")
        # base64url without padding: 4 characters per 3 bytes.
        if not isinstance(modulus, str) or len(modulus) * 6 < MIN_RSA_BITS - 6:
            raise InvalidInput(f"RSA keys have at least {MIN_RSA_BITS} bits.", "jwks")
