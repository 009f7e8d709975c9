"""Checking a DPoP proof (RFC 9449 §4.3), the same way at the token endpoint and at resources.

A proof is a JWS in the one ``DPoP`` header of the request. It is accepted
when, in this order:

1. there is exactly one ``DPoP`` header, holding one compact JWS (§4.3 items 1-3);
2. its header has ``typ`` ``dpop+jwt``, an asymmetric ``alg`` of ``ALGORITHMS``
   and a ``jwk`` that is a public key of a matching type, no private part (items 4-6);
3. the signature verifies with that key (item 7);
4. ``htm`` is the request's method and ``htu`` the endpoint's URL, built from
   the issuer (not the Host header, which a proxy may rewrite), both compared
   without query and fragment after RFC 3986 §6.2.2-6.2.3 normalisation (items 8-9);
5. ``iat`` is within ``IDP_DPOP_PROOF_SECONDS`` before now, at most
   ``DPOP_CLOCK_SKEW_SECONDS`` ahead (item 11);
6. a ``nonce``, when present or required, is one of ours (item 10, §8, §9:
   ``dpop_nonce``);
7. at a resource, ``ath`` is the base64url SHA-256 of the access token (item 12);
8. its ``jti`` was not seen before, in any process (§11.1: ``dpop_replay``).

A proof that fails is a ``ProofError`` (``invalid_dpop_proof``), or a
``NonceError`` (``use_dpop_nonce``) when only the nonce is missing or stale,
so the client can retry with the nonce it is given. Nothing a client sends
gets further than these two.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from flask import current_app
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from idp import defaults
from idp.models.types import utcnow
from idp.oauth import dpop_nonce
from idp.services import dpop_replay

HEADER = "DPoP"
TYPE = "dpop+jwt"
#: Asymmetric algorithms only (§4.3 item 5); ``none`` and HMAC are never accepted.
#: ``Ed25519`` is RFC 9864's name for what ``EdDSA`` names with an Ed25519 key.
ALGORITHMS = ("ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA")
#: The key type each algorithm is used with.
_KEY_TYPES = {
    "ES256": "EC", "ES384": "EC", "PS256": "RSA", "RS256": "RSA", "Ed25519": "OKP", "EdDSA": "OKP",
}  # fmt: skip
_CURVES = {
    "ES256": ("P-256",), "ES384": ("P-384",), "Ed25519": ("Ed25519",), "EdDSA": ("Ed25519", "Ed448"),
}  # fmt: skip
#: Members of a JWK that only a private (or symmetric) key has (RFC 7518 §6).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048
MAX_PROOF_LENGTH = 8192
MAX_JTI_LENGTH = 256
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_UNREADABLE = (JoseError, ValueError, TypeError, LookupError, RecursionError)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ProofRegistry(jws.JWSRegistry):
    """joserfc's limits, with room for the public key every proof carries in its header."""

    max_header_length = 2048  # a 4096-bit RSA jwk is about 900 characters, encoded
    max_payload_length = 4096


#: Header parameters it does not know are ignored unless named in ``crit`` (RFC 7515 §4).
_REGISTRY = _ProofRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)


class ProofError(Exception):
    """The proof is not acceptable: ``invalid_dpop_proof`` (§5.1, §7.1)."""

    error = "invalid_dpop_proof"

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


class NonceError(ProofError):
    """The proof lacks a nonce of ours, or carries a stale one: ``use_dpop_nonce`` (§8, §9)."""

    error = "use_dpop_nonce"


@dataclass(frozen=True)
class Proof:
    """A proof that passed every check."""

    #: The JWK SHA-256 thumbprint (RFC 7638) of its key: what tokens are bound to.
    jkt: str
    jti: str
    htm: str
    htu: str
    iat: int


def thumbprint(key) -> str:
    """RFC 7638 with SHA-256, base64url without padding (§6.1)."""
    return key.thumbprint()


def access_token_hash(access_token: str) -> str:
    """§4.2 ``ath``: base64url of the SHA-256 of the token's ASCII value."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify_request(headers, method: str, url: str, access_token: str | None = None) -> Proof | None:
    """The request's proof, checked; None when the request carries no ``DPoP`` header."""
    values = headers.getlist(HEADER)
    if not values:
        return None
    if len(values) != 1:
        raise ProofError("Send exactly one DPoP header.")
    return verify(values[0], method, url, access_token)


def verify(value: str, method: str, url: str, access_token: str | None = None) -> Proof:
    """Check one proof for a request of ``method`` to ``url`` (§4.3); raises ``ProofError``."""
    value = value.strip()
    if len(value) > MAX_PROOF_LENGTH or not _COMPACT_JWS.fullmatch(value):
        raise ProofError("The DPoP proof is not a compact JWS.")
    header = _protected_header(value)
    algorithm, key = _check_header(header)
    try:
        signed = jws.deserialize_compact(value, key, algorithms=[algorithm], registry=_REGISTRY)
    except _UNREADABLE:
        raise ProofError("The DPoP proof's signature does not verify with its jwk.") from None
    claims = _claims(signed.payload)
    htu = _check_target(claims, method, url)
    iat = _check_time(claims)
    _check_nonce(claims)
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise ProofError("The DPoP proof's ath is not the hash of the access token.")
    jkt = thumbprint(key)
    jti = claims["jti"]
    window = current_app.config["IDP"].dpop_proof_seconds + defaults.DPOP_CLOCK_SKEW_SECONDS
    expires_at = utcnow() + timedelta(seconds=2 * window)
    if not dpop_replay.first_use(dpop_replay.proof_name(jkt, htu, jti), expires_at):
        raise ProofError("The DPoP proof was used before; make a new one for each request.")
    return Proof(jkt=jkt, jti=jti, htm=claims["htm"], htu=claims["htu"], iat=iat)


def _protected_header(value: str) -> dict:
    encoded = value.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, RecursionError):
        raise ProofError("The DPoP proof's header is not JSON.") from None
    if not isinstance(header, dict):
        raise ProofError("The DPoP proof's header is not a JSON object.")
    return header


def _check_header(header: dict):
    if header.get("typ") != TYPE:
        raise ProofError("The DPoP proof's typ must be dpop+jwt.")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise ProofError(f"The DPoP proof's alg must be one of {' '.join(ALGORITHMS)}.")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise ProofError("The DPoP proof's header must carry its public key as jwk.")
    if _PRIVATE_MEMBERS & set(jwk):
        raise ProofError("The DPoP proof's jwk must be a public key, without private parts.")
    if jwk.get("kty") != _KEY_TYPES[algorithm]:
        raise ProofError("The DPoP proof's jwk is not a key for its alg.")
    if algorithm in _CURVES and jwk.get("crv") not in _CURVES[algorithm]:
        raise ProofError("The DPoP proof's jwk is not a key for its alg.")
    try:
        key = JWKRegistry.import_key(jwk)
    except _UNREADABLE:
        raise ProofError("The DPoP proof's jwk is not a valid key.") from None
    if not isinstance(key, ECKey | RSAKey | OKPKey) or key.is_private:
        raise ProofError("The DPoP proof's jwk must be a public key, without private parts.")
    if isinstance(key, RSAKey) and key.raw_value.key_size < MIN_RSA_BITS:
        raise ProofError(f"The DPoP proof's RSA key must have at least {MIN_RSA_BITS} bits.")
    return algorithm, key


def _claims(payload: bytes) -> dict:
    try:
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        raise ProofError("The DPoP proof's payload is not JSON.") from None
    if not isinstance(claims, dict):
        raise ProofError("The DPoP proof's payload is not a JSON object.")
    for name in ("jti", "htm", "htu"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise ProofError(f"The DPoP proof has no {name}.")
    if len(claims["jti"]) > MAX_JTI_LENGTH:
        raise ProofError("The DPoP proof's jti is too long.")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise ProofError("The DPoP proof has no iat.")
    return claims


def _check_target(claims: dict, method: str, url: str) -> str:
    if claims["htm"] != method:
        raise ProofError(f"The DPoP proof's htm is not {method}.")
    htu = normalised_uri(claims["htu"])
    if htu is None or htu != normalised_uri(url):
        raise ProofError("The DPoP proof's htu is not this endpoint's URL.")
    return htu


def _check_time(claims: dict) -> int:
    now = time.time()
    iat = claims["iat"]
    if iat < now - current_app.config["IDP"].dpop_proof_seconds:
        raise ProofError("The DPoP proof is too old; make a new one for each request.")
    if iat > now + defaults.DPOP_CLOCK_SKEW_SECONDS:
        raise ProofError("The DPoP proof's iat is in the future.")
    return int(iat)


def _check_nonce(claims: dict) -> None:
    if "nonce" in claims:
        if not dpop_nonce.is_valid(claims["nonce"]):
            raise NonceError("The DPoP proof's nonce is not current; use the one in DPoP-Nonce.")
    elif dpop_nonce.required():
        raise NonceError("The DPoP proof must carry the nonce given in DPoP-Nonce.")


def normalised_uri(uri: str) -> str | None:
    """``uri`` without query and fragment, normalised (RFC 3986 §6.2.2, §6.2.3); None when
    it is no absolute http(s) URI."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{_normalised_path(parts.path)}"


_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]")


def _normalised_path(path: str) -> str:
    def decode_unreserved(match: re.Match) -> str:
        char = unquote(match.group(0))
        return char if _UNRESERVED.fullmatch(char) else match.group(0).upper()

    path = _PERCENT.sub(decode_unreserved, path or "/")
    output: list[str] = []
    segments = path.split("/")
    for segment in segments:
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")
    return "/".join(output) or "/"
