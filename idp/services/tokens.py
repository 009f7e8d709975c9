"""Access and refresh tokens: opaque 256-bit random values, stored only as SHA-256 hashes.

Every check goes to the store, so a revocation takes effect on the next call in
every process. The functions here add to the caller's transaction and never
commit; the grant or service that issues or revokes commits once, so a code
is marked used and its tokens issued all-or-nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update

from idp import defaults
from idp.extensions import db
from idp.models import AuditEvent, AuthorizationCode, Client, Consent, Token
from idp.models.token import hash_value
from idp.models.types import new_id, utcnow
from idp.services import consent as consents

if TYPE_CHECKING:
    from idp.services.token_lookup import TokenState

TOKEN_BYTES = defaults.TOKEN_BYTES


def new_value() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class IssuedTokens:
    #: The mapped row (``issue``); None when stored by ``store`` with Core.
    row: Token | None
    access_token: str
    refresh_token: str | None
    expires_in: int
    #: The column values of the token row.
    values: dict = field(default_factory=dict, repr=False)


def prepare(
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
    dpop_jkt: str | None = None,
) -> IssuedTokens:
    """New token values, not stored yet; ``refresh_expires_at=None`` with a refresh token
    means no time limit. ``dpop_jkt`` binds them to a DPoP key (RFC 9449 §6)."""
    now = utcnow()
    access = new_value()
    refresh = new_value() if with_refresh else None
    values = {
        "client_id": client.id,
        "member_id": member_id,
        "consent_id": consent.id if consent else None,
        "code_id": code.id if code else None,
        "family_id": family_id or new_id(),
        "access_token_hash": hash_value(access),
        "refresh_token_hash": hash_value(refresh) if refresh else None,
        "token_type": "DPoP" if dpop_jkt else "Bearer",
        "dpop_jkt": dpop_jkt,
        "scope": scope,
        "sid": sid,
        "auth_time": auth_time,
        "amr": list(amr or []),
        "acr": acr,
        "claims": claims,
        "issued_at": now,
        "access_expires_at": now + timedelta(seconds=client.access_token_ttl),
        "refresh_expires_at": refresh_expires_at if refresh else None,
        "refresh_used_at": None,
        "revoked_at": None,
    }
    return IssuedTokens(None, access, refresh, client.access_token_ttl, values)


def issue(client: Client, **grant) -> IssuedTokens:
    """A new token row through the session (flushed); the arguments are ``prepare``'s."""
    issued = prepare(client, **grant)
    issued.row = Token(**issued.values)
    db.session.add(issued.row)
    db.session.flush()
    return issued


def _bound_insert(table, names):
    return insert(table).values(
        {name: bindparam(f"{table.name}_{name}", type_=table.c[name].type) for name in names}
    )


_TOKEN_COLUMNS = tuple(c.key for c in Token.__table__.columns if c.key != "id")
_AUDIT_COLUMNS = ("occurred_at", "event", "member_id", "client_id", "ip_address", "details")
_INSERT_TOKEN = _bound_insert(Token.__table__, _TOKEN_COLUMNS)
_INSERT_AUDIT = _bound_insert(AuditEvent.__table__, _AUDIT_COLUMNS)
#: PostgreSQL inserts both rows in one statement (a data-modifying WITH); SQLite cannot.
_INSERT_BOTH = _INSERT_AUDIT.add_cte(_INSERT_TOKEN.cte("issued_token"))


def store(issued: IssuedTokens, audit_entry: dict) -> None:
    """Insert the token row and its audit event (``audit.entry_values``), in one round trip
    where the database allows it. Joins the caller's transaction; the caller commits."""
    params = {f"tokens_{name}": issued.values[name] for name in _TOKEN_COLUMNS}
    params.update({f"audit_events_{name}": audit_entry[name] for name in _AUDIT_COLUMNS})
    db.session.flush()  # rows the token points at may still be pending in the session
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_INSERT_BOTH, params)
    else:
        db.session.execute(_INSERT_TOKEN, params)
        db.session.execute(_INSERT_AUDIT, params)


def _consent_valid(row: Token | TokenState, now: datetime) -> bool:
    """A token for no member needs no consent; any other lives while its consent covers it.

    ``row`` is a ``Token`` or a ``token_lookup.TokenState``: both carry their ``consent``.
    """
    if row.consent_id is None:
        return True
    return consents.covers_issued_tokens(row.consent, now)


def find_by_access_token(value: str) -> Token | None:
    if not value:
        return None
    return db.session.scalar(select(Token).where(Token.access_token_hash == hash_value(value)))


def find_by_refresh_token(value: str) -> Token | None:
    if not value:
        return None
    return db.session.scalar(select(Token).where(Token.refresh_token_hash == hash_value(value)))


def access_token_active(row: Token | TokenState | None) -> bool:
    """Not revoked, not expired (no grace period), and its consent still covers it."""
    if row is None or row.revoked_at is not None:
        return False
    now = utcnow()
    return row.access_expires_at > now and _consent_valid(row, now)


def refresh_token_active(row: Token | TokenState | None) -> bool:
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
