"""DPoP proofs (RFC 9449 §4) as a client makes them, for the tests.

Authlib's client has no DPoP, so proofs are built here with joserfc, from keys
generated in the test: ``DPoPKey.ec()`` or ``DPoPKey.rsa()``, then
``key.proof("POST", url)`` or, for a resource, ``key.proof("GET", url,
access_token=...)`` (which adds ``ath``). Every claim and header can be
overridden or left out, to make the bad proofs the checks must refuse.
"""

from __future__ import annotations

import base64
import json
import secrets
import time

from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

ISSUER = "http://127.0.0.1:5000"
TOKEN_URL = ISSUER + "/oauth/token"
USERINFO_URL = ISSUER + "/oauth/userinfo"
MILES_URL = ISSUER + "/api/v1/me/miles"
#: Left out of a proof when given as a claim's or header's value.
OMIT = object()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def ath(access_token: str) -> str:
    import hashlib

    return b64url(hashlib.sha256(access_token.encode()).digest())


class DPoPKey:
    def __init__(self, key, alg: str):
        self.key = key
        self.alg = alg

    @classmethod
    def ec(cls) -> DPoPKey:
        return cls(ECKey.generate_key("P-256", private=True), "ES256")

    @classmethod
    def rsa(cls, alg: str = "PS256") -> DPoPKey:
        return cls(RSAKey.generate_key(2048, private=True), alg)

    @classmethod
    def ed25519(cls, alg: str = "Ed25519") -> DPoPKey:
        return cls(OKPKey.generate_key("Ed25519", private=True), alg)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    @property
    def public_jwk(self) -> dict:
        return self.key.as_dict(private=False)

    def proof(
        self,
        htm: str,
        htu: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        header: dict | None = None,
        **claims,
    ) -> str:
        """A signed proof; ``claims`` and ``header`` override (``OMIT`` leaves one out)."""
        payload = {
            "jti": secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(time.time()),
        }
        if access_token is not None:
            payload["ath"] = ath(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims)
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk}
        protected.update(header or {})
        payload = {k: v for k, v in payload.items() if v is not OMIT}
        protected = {k: v for k, v in protected.items() if v is not OMIT}
        return sign(protected, json.dumps(payload).encode(), self.key, self.alg)


def sign(protected: dict, payload: bytes, key, alg: str) -> str:
    """A compact JWS of ``protected`` as given: joserfc's serializer would check the header,
    and the tests need headers no good client sends."""
    signing_input = f"{b64url(json.dumps(protected).encode())}.{b64url(payload)}"
    signature = JWSRegistry.algorithms[alg].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64url(signature)}"


def unsigned_proof(htm: str, htu: str) -> str:
    """A proof with ``alg`` none (no signature at all)."""
    key = DPoPKey.ec()
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk}
    payload = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(time.time())}
    encode = lambda value: b64url(json.dumps(value).encode())  # noqa: E731
    return f"{encode(header)}.{encode(payload)}."


def hmac_proof(htm: str, htu: str) -> str:
    """A proof signed with a symmetric key (HS256), which no DPoP server may accept."""
    from joserfc.jwk import OctKey

    key = OctKey.generate_key(256)
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": DPoPKey.ec().public_jwk}
    payload = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(time.time())}
    return sign(header, json.dumps(payload).encode(), key, "HS256")
