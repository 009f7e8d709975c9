"""Access and refresh tokens: opaque 256-bit random values, stored only as SHA-256 hashes.

Every check goes to the store, so a revocation takes effect on the next call in
every process. The functions here add to the caller's transaction and never
commit; the grant or service that issues or revokes commits once, so a code
is marked used and its tokens issued all-or-nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from idp import defaults
from idp.extensions import db
from idp.models import AuthorizationCode, Client, Consent, Token
from idp.models.types import new_id, utcnow
from idp.services import consent as consents

TOKEN_BYTES = defaults.TOKEN_BYTES


def new_value() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_value(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class IssuedTokens:
    row: Token
    access_token: str
    refresh_token: str | None
    expires_in: int


def issue(
    client: Client,
    *,
    scope: str,
    member_id: str | None = None,
    consent: Consent | None = None,
    code: AuthorizationCode | None = None,
    family_id: str | None = None,
    with_refresh: bool = False,
    refresh_expires_at: datetime | None = None,
    sid: str | None = None,
    auth_time: datetime | None = None,
    amr: list[str] | None = None,
    acr: str | None = None,
    claims: dict | None = None,
) -> IssuedTokens:
    """A new token row; ``refresh_expires_at=None`` with a refresh token means no time limit."""
    now = utcnow()
    access = new_value()
    refresh = new_value() if with_refresh else None
    row = Token(
        client_id=client.id,
        member_id=member_id,
        consent_id=consent.id if consent else None,
        code_id=code.id if code else None,
        family_id=family_id or new_id(),
        access_token_hash=hash_value(access),
        refresh_token_hash=hash_value(refresh) if refresh else None,
        scope=scope,
        sid=sid,
        auth_time=auth_time,
        amr=list(amr or []),
        acr=acr,
        claims=claims,
        issued_at=now,
        access_expires_at=now + timedelta(seconds=client.access_token_ttl),
        refresh_expires_at=refresh_expires_at if refresh else None,
    )
    db.session.add(row)
    db.session.flush()
    return IssuedTokens(row, access, refresh, client.access_token_ttl)


def _consent_valid(row: Token, now: datetime) -> bool:
    """A token for no member needs no consent; any other lives while its consent covers it."""
    if row.consent_id is None:
        return True
    return consents.covers_issued_tokens(db.session.get(Consent, row.consent_id), now)


def find_by_access_token(value: str) -> Token | None:
    if not value:
        return None
    return db.session.scalar(select(Token).where(Token.access_token_hash == hash_value(value)))


def find_by_refresh_token(value: str) -> Token | None:
    if not value:
        return None
    return db.session.scalar(select(Token).where(Token.refresh_token_hash == hash_value(value)))


def access_token_active(row: Token | None) -> bool:
    """Not revoked, not expired (no grace period), and its consent still covers it."""
    if row is None or row.revoked_at is not None:
        return False
    now = utcnow()
    return row.access_expires_at > now and _consent_valid(row, now)


def refresh_token_active(row: Token | None) -> bool:
    if row is None or row.refresh_token_hash is None or row.revoked_at is not None:
        return False
    if row.refresh_used_at is not None:
        return False
    now = utcnow()
    if row.refresh_expires_at is not None and row.refresh_expires_at <= now:
        return False
    return _consent_valid(row, now)


def find_active_access_token(value: str) -> Token | None:
    row = find_by_access_token(value)
    return row if access_token_active(row) else None


def claim_refresh_token(row: Token) -> bool:
    """Mark a refresh token used, in one statement; False when it was used already."""
    result = db.session.execute(
        update(Token)
        .where(Token.id == row.id, Token.refresh_used_at.is_(None), Token.revoked_at.is_(None))
        .values(refresh_used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def revoke_family(family_id: str) -> int:
    """Revoke every token issued from one grant (a code and all its refreshes)."""
    return _revoke(Token.family_id == family_id)


def revoke_from_code(code_id: int) -> int:
    """RFC 6749 §4.1.2: a replayed code revokes the tokens issued from it."""
    families = select(Token.family_id).where(Token.code_id == code_id).scalar_subquery()
    return _revoke(Token.family_id.in_(families))


def revoke_for_member_at_client(member_id: str, client_ids: list[int]) -> int:
    """Every token a member's consent gave these clients (withdrawal, deletion)."""
    return _revoke((Token.member_id == member_id) & Token.client_id.in_(client_ids))


def revoke_row(row: Token) -> int:
    return _revoke(Token.id == row.id)


def _revoke(condition) -> int:
    result = db.session.execute(
        update(Token)
        .where(condition, Token.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount
