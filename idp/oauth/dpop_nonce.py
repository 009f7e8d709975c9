"""Server-provided DPoP nonces (RFC 9449 §8 at the token endpoint, §9 at resource servers).

A nonce limits how long a proof made in advance stays usable. Ours keep no
state: a nonce is the HMAC-SHA256, under a key derived from ``IDP_SECRET_KEY``,
of the number of the current period (``DPOP_NONCE_PERIOD_SECONDS``, five
minutes), so every process that shares the secret key makes and checks the
same nonces without asking a store. A nonce is accepted in the period it was
made and the next one, so one handed out just before a period ends still works;
the nonce rotates by itself every period.

Whether proofs must carry a nonce is a setting (``IDP_DPOP_REQUIRE_NONCE``,
off by default: the ``iat`` window and the replay cache already bound a proof's
life, and a nonce costs every client one more round trip). A proof that does
carry a nonce has it checked either way. Every answer to a request with a
DPoP proof carries a fresh ``DPoP-Nonce`` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from flask import current_app

from idp import defaults

PERIOD = defaults.DPOP_NONCE_PERIOD_SECONDS
HEADER = "DPoP-Nonce"


def _key() -> bytes:
    secret = current_app.config["IDP"].secret_key.encode()
    return hmac.new(secret, b"mam-idp dpop nonce", hashlib.sha256).digest()


def _nonce_for(period: int) -> str:
    mac = hmac.new(_key(), str(period).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def _period(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD)


def current_nonce() -> str:
    """The nonce to hand out now (the value of a ``DPoP-Nonce`` header)."""
    return _nonce_for(_period())


def is_valid(nonce: object) -> bool:
    """A nonce of this period or the one before, made with our key."""
    if not isinstance(nonce, str) or len(nonce) > 64:
        return False
    period = _period()
    return any(hmac.compare_digest(nonce, _nonce_for(p)) for p in (period, period - 1))


def required() -> bool:
    return current_app.config["IDP"].dpop_nonce_required
