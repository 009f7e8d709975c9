"""Keys that sign ID tokens, logout tokens and Security Event Tokens.

One current key per algorithm (RS256, which OIDC Core §15.1 makes mandatory,
and ES256). ``rotate_keys`` adds new keys and retires the old ones; a retired
key is still published in the JWKS until every token it signed has expired,
so partners never see a signature they cannot verify.
"""

from __future__ import annotations

from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import bindparam, select

from idp import defaults
from idp.extensions import db
from idp.models import SigningKey
from idp.models.types import utcnow
from idp.services import audit
from idp.services.signing_key_cache import (
    PublishedKeys,
    key_set_version,
    private_keys,
    published_at,
)

ALGORITHMS = ("RS256", "ES256")
#: The longest lifetime of anything we sign (ID tokens); the JWKS keeps a retired
#: key this long, plus the clock skew partners may allow.
LONGEST_SIGNED_LIFETIME = timedelta(seconds=defaults.SIGNED_TOKEN_SECONDS)
CLOCK_SKEW = timedelta(seconds=defaults.SIGNING_CLOCK_SKEW_SECONDS)

#: The kid that signs now for an algorithm: one column, never the private key.
_CURRENT_KID = (
    select(SigningKey.kid)
    .where(SigningKey.alg == bindparam("alg"), SigningKey.retired_at.is_(None))
    .order_by(SigningKey.created_at.desc())
    .limit(1)
)


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
    private_keys.remember(kid, key)
    return row


def _current_kid(alg: str) -> str:
    kid = db.session.scalar(_CURRENT_KID, {"alg": alg})
    return kid if kid is not None else current_key(alg).kid


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


def published() -> PublishedKeys:
    """The published key set as the database has it now; a current key per algorithm first."""
    version = key_set_version()
    if version.current_algorithms < len(ALGORITHMS):
        ensure_keys()
        version = key_set_version()
    return published_at(version)


def jwks() -> dict:
    """The JWK Set document (RFC 7517 §5) with every published public key."""
    return {"keys": [dict(key) for key in published().document["keys"]]}


def sign(claims: dict, alg: str = "RS256", typ: str | None = None) -> str:
    """A compact JWS of ``claims`` under the current key for ``alg``.

    The database names the current kid on every call, so a rotation in any
    process takes effect at once; the private key itself is decrypted once per
    process and kid.
    """
    kid = _current_kid(alg)
    header = {"alg": alg, "kid": kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, claims, private_keys.get(kid, alg), algorithms=[alg])


def public_key_set() -> KeySet:
    """Every published key, for verifying what we signed (tests, id_token_hint)."""
    return published().key_set
