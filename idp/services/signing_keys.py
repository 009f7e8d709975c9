"""Keys that sign ID tokens, logout tokens and Security Event Tokens.

One current key per algorithm (RS256, which OIDC Core §15.1 makes mandatory,
and ES256). ``rotate_keys`` adds new keys and retires the old ones; a retired
key is still published in the JWKS until every token it signed has expired,
so partners never see a signature they cannot verify.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import or_, select

from idp import defaults
from idp.extensions import db
from idp.models import SigningKey
from idp.models.types import utcnow
from idp.services import audit

ALGORITHMS = ("RS256", "ES256")
#: The longest lifetime of anything we sign (ID tokens); the JWKS keeps a retired
#: key this long, plus the clock skew partners may allow.
LONGEST_SIGNED_LIFETIME = timedelta(seconds=defaults.SIGNED_TOKEN_SECONDS)
CLOCK_SKEW = timedelta(seconds=defaults.SIGNING_CLOCK_SKEW_SECONDS)


def _generate(alg: str):
    parameters = {"use": "sig", "alg": alg}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=parameters, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    raise ValueError(f"unsupported signing algorithm {alg}")


def _create(alg: str) -> SigningKey:
    key = _generate(alg)
    kid = key.thumbprint()  # RFC 7638: stable and derived from the public key
    public = key.as_dict(private=False)
    public["kid"] = kid
    row = SigningKey(kid=kid, alg=alg, private_jwk=key.as_dict(private=True), public_jwk=public)
    db.session.add(row)
    return row


def current_key(alg: str = "RS256") -> SigningKey:
    """The key that signs now for ``alg``; created on first use."""
    row = db.session.scalar(
        select(SigningKey)
        .where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
    )
    if row is None:
        row = _create(alg)
        audit.record("signing_key.created", kid=row.kid, alg=alg)
        db.session.commit()
    return row


def ensure_keys() -> None:
    for alg in ALGORITHMS:
        current_key(alg)


def rotate_keys() -> dict[str, str]:
    """Make a new key current for every algorithm; returns {alg: new kid}."""
    now = utcnow()
    unpublish = now + LONGEST_SIGNED_LIFETIME + CLOCK_SKEW
    for old in db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        old.retired_at = now
        old.unpublish_after = unpublish
    created = {alg: _create(alg) for alg in ALGORITHMS}
    for alg, row in created.items():
        audit.record("signing_key.rotated", kid=row.kid, alg=alg)
    db.session.commit()
    return {alg: row.kid for alg, row in created.items()}


def published_keys() -> list[SigningKey]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(SigningKey)
            .where(or_(SigningKey.unpublish_after.is_(None), SigningKey.unpublish_after > now))
            .order_by(SigningKey.created_at.desc())
        )
    )


def jwks() -> dict:
    """The JWK Set document (RFC 7517 §5) with every published public key."""
    ensure_keys()
    return {"keys": [dict(row.public_jwk) for row in published_keys()]}


@lru_cache(maxsize=32)
def _private_key(kid: str, alg: str, serialized: tuple):
    importer = RSAKey if alg == "RS256" else ECKey
    return importer.import_key(dict(serialized))


def sign(claims: dict, alg: str = "RS256", typ: str | None = None) -> str:
    """A compact JWS of ``claims`` under the current key for ``alg``."""
    row = current_key(alg)
    key = _private_key(row.kid, alg, tuple(sorted(row.private_jwk.items())))
    header = {"alg": alg, "kid": row.kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, claims, key, algorithms=[alg])


def public_key_set() -> KeySet:
    """Every published key, for verifying what we signed (tests, id_token_hint)."""
    return KeySet.import_key_set({"keys": [dict(r.public_jwk) for r in published_keys()]})
