"""The upstream's ID token checked as OIDC Core §3.1.3.7 asks of a relying party.

- the signature, with a key of the upstream's key set named by ``kid``; an
  unknown ``kid`` fetches the key set once more (the upstream rotated), then fails;
- ``alg`` one of ``ALGORITHMS`` that the upstream also advertises, never ``none``
  nor a symmetric one;
- ``iss`` the configured issuer exactly; ``aud`` this provider's client id at the
  upstream, and ``azp`` the same when there are other audiences;
- ``exp`` in the future, ``iat`` neither in the future nor older than
  ``MAX_AGE_SECONDS`` (``LEEWAY_SECONDS`` of clock skew allowed);
- ``nonce`` the one sent with this request (compared as its hash, the stored form);
- ``sub`` present and at most 255 characters (OIDC Core §2).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError, MissingKeyError

from idp.linking import metadata
from idp.linking.errors import UpstreamError
from idp.linking.upstreams import Upstream

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class UpstreamIdentity:
    """Who the upstream says logged in: the profile (``issuer``, ``subject``)."""

    issuer: str
    subject: str
    amr: tuple[str, ...] = ()


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _header(raw: str) -> dict:
    try:
        return dict(jws.extract_compact(raw.encode()).protected)
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise UpstreamError("invalid_id_token", "the ID token is not a compact JWS") from exc


def _algorithm(header: dict, document: dict) -> str:
    advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    alg = header.get("alg")
    if alg not in ALGORITHMS or alg not in advertised:
        raise UpstreamError("bad_signature", f"alg {alg!r} is not accepted")
    return alg


def _decode(raw: str, upstream: Upstream, header: dict, alg: str) -> dict:
    keys = metadata.key_set(upstream)
    kid = header.get("kid")
    if kid is not None and kid not in {key.kid for key in keys}:
        keys = metadata.key_set(upstream, refresh=True)  # the upstream rotated its keys
    try:
        return jwt.decode(raw, keys, algorithms=[alg]).claims
    except (BadSignatureError, MissingKeyError) as exc:
        raise UpstreamError("bad_signature", type(exc).__name__) from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise UpstreamError("invalid_id_token", type(exc).__name__) from exc


def _check_claims(claims: dict, upstream: Upstream, expected_nonce_hash: str) -> None:
    if claims.get("iss") != upstream.issuer:
        raise UpstreamError("wrong_issuer", "the ID token comes from another issuer")
    now = int(time.time())
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        aud={"essential": True, "value": upstream.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise UpstreamError("invalid_id_token", type(exc).__name__) from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != upstream.client_id:
        raise UpstreamError("invalid_id_token", "azp is not this provider")
    if claims["iat"] < now - MAX_AGE_SECONDS - LEEWAY_SECONDS:
        raise UpstreamError("invalid_id_token", "the ID token is too old")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise UpstreamError("invalid_id_token", "sub is not a string of 1 to 255 characters")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(
        nonce_hash(nonce), expected_nonce_hash
    ):
        raise UpstreamError("wrong_nonce", "the nonce is not the one sent")


def verify_id_token(raw: str, upstream: Upstream, expected_nonce_hash: str) -> UpstreamIdentity:
    """The identity in ``raw`` once every check holds; else ``UpstreamError``."""
    if not isinstance(raw, str) or raw.count(".") != 2:
        raise UpstreamError("invalid_id_token", "the ID token is not a compact JWS")
    header = _header(raw)
    alg = _algorithm(header, metadata.provider_metadata(upstream))
    claims = _decode(raw, upstream, header, alg)
    _check_claims(claims, upstream, expected_nonce_hash)
    amr = claims.get("amr") if isinstance(claims.get("amr"), list) else []
    return UpstreamIdentity(
        issuer=claims["iss"],
        subject=claims["sub"],
        amr=tuple(str(a) for a in amr),
    )
