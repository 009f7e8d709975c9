"""Pushed authorization requests (RFC 9126): stored once, used once, by one client and browser.

``push`` stores the parameters a client sent to the pushed authorization
request endpoint and returns the ``request_uri`` for them: a URN with 256
random bits, stored only as a hash (RFC 9126 §2.2, §7.1). ``redeem`` turns the
``request_uri`` back into the parameters at the authorization endpoint (§4):
only for the client it was pushed by, only before it expires, and only once
(§7.3). The first use claims it for one browser in a single UPDATE, so of two
uses at the same moment, in any two processes, exactly one wins. That browser
may come back with it for ``HOLD`` (after logging in, or reloading the page,
which §4 allows) until ``complete`` marks the code issued for it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from idp import defaults
from idp.extensions import db
from idp.models import Client, PushedAuthorizationRequest
from idp.models.token import hash_value
from idp.models.types import utcnow

#: RFC 9126 §2.2: the ``request_uri`` the pushed authorization request endpoint issues.
URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
REFERENCE_BYTES = 32
#: Longer ``request_uri`` values are never looked up.
MAX_REQUEST_URI_LENGTH = 256
#: How long the browser that first used a ``request_uri`` may come back with it.
HOLD = timedelta(seconds=defaults.PUSHED_REQUEST_HOLD_SECONDS)


class PushedRequestRefused(Exception):
    """A ``request_uri`` that cannot be used (``invalid_request_uri``, RFC 9126 §4)."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Pushed:
    """The parameters behind a ``request_uri``, and the row to complete when a code is issued."""

    id: int
    parameters: dict[str, list[str]]


@dataclass(frozen=True)
class Reference:
    request_uri: str
    expires_in: int


def is_pushed_reference(request_uri: str) -> bool:
    """Whether ``request_uri`` is one of ours (any other is ``request_uri_not_supported``)."""
    return request_uri.startswith(URN_PREFIX)


def push(client: Client, parameters: dict[str, list[str]], lifetime_seconds: int) -> Reference:
    """Store ``parameters`` (already validated) for ``client``; the reference to them. Commits."""
    reference = secrets.token_urlsafe(REFERENCE_BYTES)
    now = utcnow()
    db.session.add(
        PushedAuthorizationRequest(
            reference_hash=hash_value(reference),
            client_id=client.id,
            parameters={name: list(values) for name, values in parameters.items()},
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime_seconds),
        )
    )
    db.session.commit()
    return Reference(URN_PREFIX + reference, lifetime_seconds)


def redeem(request_uri: str, client: Client, holder: str) -> Pushed:
    """The pushed parameters behind ``request_uri`` for ``client`` and the browser ``holder``.

    Raises ``PushedRequestRefused``: unknown (or pushed by another client),
    expired before its first use, or used by another browser, by this one too
    long ago, or for a code already. Commits the first use.
    """
    row = _find(request_uri, client)
    if row is None:
        raise PushedRequestRefused(PushedRequestRefused.UNKNOWN)
    now = utcnow()
    holder_hash = hash_value(holder)
    if row.used_at is None:
        if row.expires_at <= now:
            raise PushedRequestRefused(PushedRequestRefused.EXPIRED)
        if _claim(row, holder_hash, now):
            return Pushed(row.id, row.parameters)
        db.session.refresh(row)  # another request claimed it first: whose was it?
    if _held_by(row, holder_hash, now):
        return Pushed(row.id, row.parameters)
    raise PushedRequestRefused(PushedRequestRefused.USED)


def complete(pushed_id: int) -> bool:
    """Mark the request answered with a code; False when a code was issued for it already.

    Joins the caller's transaction: it commits with the code.
    """
    result = db.session.execute(
        update(PushedAuthorizationRequest)
        .where(
            PushedAuthorizationRequest.id == pushed_id,
            PushedAuthorizationRequest.completed_at.is_(None),
        )
        .values(completed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _find(request_uri: str, client: Client) -> PushedAuthorizationRequest | None:
    if len(request_uri) > MAX_REQUEST_URI_LENGTH or not is_pushed_reference(request_uri):
        return None
    reference = request_uri[len(URN_PREFIX) :]
    if not reference:
        return None
    return db.session.scalar(
        select(PushedAuthorizationRequest).where(
            PushedAuthorizationRequest.reference_hash == hash_value(reference),
            PushedAuthorizationRequest.client_id == client.id,
        )
    )


def _claim(row: PushedAuthorizationRequest, holder_hash: str, now) -> bool:
    """The first use, in one statement: only one request (in any process) gets rowcount 1."""
    result = db.session.execute(
        update(PushedAuthorizationRequest)
        .where(
            PushedAuthorizationRequest.id == row.id,
            PushedAuthorizationRequest.used_at.is_(None),
            PushedAuthorizationRequest.expires_at > now,
        )
        .values(used_at=now, holder_hash=holder_hash)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _held_by(row: PushedAuthorizationRequest, holder_hash: str, now) -> bool:
    return (
        row.completed_at is None
        and row.used_at is not None
        and row.used_at + HOLD > now
        and row.holder_hash is not None
        and hmac.compare_digest(row.holder_hash, holder_hash)
    )
