"""Authorization codes (RFC 6749 §4.1.2): 256 random bits, stored only as a hash, used once.

A code carries everything its token request needs (the consent, the login,
the PKCE challenge, the nonce and ``claims`` request), so the token endpoint
reads nothing else of the authorization. It is claimed in one statement; a
code presented again is answered by ``issuance.code_replayed``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuthorizationCode, Client, Consent, Member, SSOSession
from idp.models.types import utcnow
from idp.services import session_ids, tokens

#: Longer codes are never looked up.
MAX_CODE_LENGTH = 256


def save(
    value: str,
    *,
    client: Client,
    redirect_uri: str,
    member: Member,
    session: SSOSession,
    consent: Consent,
    scope: str,
    acr: str,
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    claims: dict | None,
    lifetime: timedelta,
    dpop_jkt: str | None = None,
) -> AuthorizationCode:
    """Store the code ``value`` (its hash) for the member's authorization. Commits."""
    now = utcnow()
    row = AuthorizationCode(
        code_hash=tokens.hash_value(value),
        client_id=client.id,
        member_id=member.id,
        consent_id=consent.id,
        redirect_uri=redirect_uri,
        scope=scope,
        nonce=nonce,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        claims=claims,
        dpop_jkt=dpop_jkt,
        sid=session_ids.partner_sid(session, client),
        auth_time=session.auth_time,
        amr=list(session.amr or []),
        acr=acr,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(row)
    db.session.commit()
    return row


def find(value: str, client: Client) -> AuthorizationCode | None:
    """The code ``client`` was given under ``value``, used or not, expired or not."""
    if not value or len(value) > MAX_CODE_LENGTH:
        return None
    return db.session.scalar(
        select(AuthorizationCode).where(
            AuthorizationCode.code_hash == tokens.hash_value(value),
            AuthorizationCode.client_id == client.id,
        )
    )


def claim(row: AuthorizationCode) -> bool:
    """Mark the code used in one statement; False when another request used it first.

    Joins the caller's transaction: the tokens issued for it commit with it.
    """
    result = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1
