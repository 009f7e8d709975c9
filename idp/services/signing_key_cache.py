"""What each process keeps of the signing keys between requests, and how it knows it is stale.

The public key set is asked for on every JWKS request and every
``id_token_hint``; the private key on every signature. Both change only when a
key is rotated, possibly by another process (a second worker, the CLI), so:

- the published set is rebuilt when the key set's *version* changes: one small
  aggregate over ``signing_keys`` read on every use (counts and the latest
  timestamps; any insert, retirement or change of ``unpublish_after`` moves
  it), or when the earliest ``unpublish_after`` among the published keys has
  passed. Building it selects the public columns only;
- a private key is decrypted and imported once per process and kid. A kid is
  the RFC 7638 thumbprint of its key, so it never names another key; which kid
  signs is still asked of the database every time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import case, func, or_, select

from idp.extensions import db
from idp.models import SigningKey
from idp.models.types import utcnow

#: Where an application keeps its published key set.
_EXTENSION = "idp_published_keys"
#: Imported private keys kept per process; more than this (tests, many rotations)
#: starts over, which costs one decryption per current key.
MAX_PRIVATE_KEYS = 64

#: The key set's version: it moves with every insert, retirement or unpublish change.
_VERSION = select(
    func.count(),
    func.count(func.distinct(case((SigningKey.retired_at.is_(None), SigningKey.alg)))),
    func.max(SigningKey.created_at),
    func.max(SigningKey.retired_at),
    func.min(SigningKey.unpublish_after),
    func.max(SigningKey.unpublish_after),
).select_from(SigningKey)


@dataclass(frozen=True)
class KeySetVersion:
    keys: int
    current_algorithms: int
    newest: datetime | None
    last_retired: datetime | None
    first_unpublish: datetime | None
    last_unpublish: datetime | None


def key_set_version() -> KeySetVersion:
    """Read on the session's connection (its transaction), without the ORM's layers:
    every key is written by a service that commits, so nothing waits to be flushed."""
    return KeySetVersion(*db.session.connection().execute(_VERSION).one())


@dataclass(frozen=True)
class PublishedKeys:
    """The JWK Set (RFC 7517 §5) as it stood at ``version``, good until ``valid_until``."""

    version: KeySetVersion
    document: dict
    #: When the first retired key in the set is to leave it (None: none will).
    valid_until: datetime | None
    key_set: KeySet = field(compare=False)

    def fresh(self, version: KeySetVersion, now: datetime) -> bool:
        return version == self.version and (self.valid_until is None or now < self.valid_until)


def _build(version: KeySetVersion, now: datetime) -> PublishedKeys:
    rows = db.session.execute(
        select(SigningKey.public_jwk, SigningKey.unpublish_after)
        .where(or_(SigningKey.unpublish_after.is_(None), SigningKey.unpublish_after > now))
        .order_by(SigningKey.created_at.desc())
    ).all()
    document = {"keys": [dict(public) for public, _ in rows]}
    leaving = [until for _, until in rows if until is not None]
    return PublishedKeys(
        version=version,
        document=document,
        valid_until=min(leaving) if leaving else None,
        key_set=KeySet.import_key_set(document),
    )


def published_at(version: KeySetVersion) -> PublishedKeys:
    """This application's published set for ``version``, rebuilt only when stale."""
    now = utcnow()
    kept = current_app.extensions.get(_EXTENSION)
    if kept is not None and kept.fresh(version, now):
        return kept
    built = _build(version, now)
    current_app.extensions[_EXTENSION] = built
    return built


class PrivateKeys:
    """Imported private keys by kid, for this process (see the module's docstring)."""

    def __init__(self):
        self._keys: dict[str, RSAKey | ECKey] = {}
        self._lock = threading.Lock()

    def remember(self, kid: str, key: RSAKey | ECKey) -> None:
        with self._lock:
            if len(self._keys) >= MAX_PRIVATE_KEYS:
                self._keys.clear()
            self._keys[kid] = key

    def get(self, kid: str, alg: str) -> RSAKey | ECKey:
        key = self._keys.get(kid)
        if key is None:
            serialized = db.session.scalar(
                select(SigningKey.private_jwk).where(SigningKey.kid == kid)
            )
            importer = RSAKey if alg == "RS256" else ECKey
            key = importer.import_key(serialized)
            self.remember(kid, key)
        return key


private_keys = PrivateKeys()
