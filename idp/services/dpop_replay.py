"""The DPoP replay cache (RFC 9449 §11.1): each proof is accepted once, in every process.

A proof is named by the SHA-256 of its key thumbprint, target URI and ``jti``,
and kept until it would be refused for its age anyway. With ``IDP_REDIS_URL``
the name is set in Redis with ``SET NX`` and an expiry, which one Redis
answers for every process; without it a row in ``dpop_proofs`` whose unique
index decides between concurrent requests (expired rows are deleted on the way
and by ``mam-idp purge``). Either way the first request to record a proof
wins and every other is refused.

When Redis is configured but does not answer, no proof is accepted
(``ReplayCacheUnavailable``): falling back to the database would let a proof
through in one process that another had recorded in Redis.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.models import DPoPProof
from idp.models.types import utcnow

#: Redis keys of the cache.
KEY_PREFIX = "mam-idp:dpop-jti:"
EXTENSION_KEY = "idp.dpop_redis"


class ReplayCacheUnavailable(Exception):
    """The configured Redis did not answer; the proof cannot be checked now."""


def proof_name(jkt: str, htu: str, jti: str) -> str:
    return hashlib.sha256("\n".join((jkt, htu, jti)).encode()).hexdigest()


def first_use(name: str, expires_at: datetime) -> bool:
    """Record the proof ``name`` until ``expires_at``; False when it was recorded before.

    Commits at once (the database cache), so the proof stays spent even if the
    request fails later.
    """
    redis_url = current_app.config["IDP"].redis_url
    if redis_url:
        return _first_use_in_redis(redis_url, name, expires_at)
    return _first_use_in_database(name, expires_at)


def _redis(url: str):
    """One client (and its connection pool) per application and URL."""
    clients = current_app.extensions.setdefault(EXTENSION_KEY, {})
    client = clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client = clients.setdefault(url, client)
    return client


def _first_use_in_redis(url: str, name: str, expires_at: datetime) -> bool:
    import redis

    seconds = max(1, int((expires_at - utcnow()).total_seconds()) + 1)
    try:
        return bool(_redis(url).set(KEY_PREFIX + name, b"1", nx=True, ex=seconds))
    except redis.RedisError as exc:
        raise ReplayCacheUnavailable(str(exc)) from exc


def _first_use_in_database(name: str, expires_at: datetime) -> bool:
    db.session.execute(delete(DPoPProof).where(DPoPProof.expires_at < utcnow()))
    try:
        with db.session.begin_nested():
            db.session.add(DPoPProof(jti_hash=name, expires_at=expires_at))
    except IntegrityError:
        db.session.commit()
        return False
    db.session.commit()
    return True
