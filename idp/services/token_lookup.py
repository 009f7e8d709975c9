"""A presented token with everything its checks need, read in one query.

UserInfo, the partner APIs, introspection and revocation look a token up on
every call, and each check used to load another mapped row (the token, its
consent, its client, the member, the member's cards). Here one SQLAlchemy Core
statement reads the token, its consent, its client's version and the member
together, into plain read-only objects:

- ``ConsentState``: what ``idp.services.consent.covers_issued_tokens``,
  ``covered_scopes`` and ``covered_claims`` ask of a consent, as stored now;
- ``MemberClaims`` (bearer calls): the member's claim columns as stored,
  each decrypted only when a claim of a granted scope reads it;
- the client, from this process's copy when its version is the stored one
  (``idp.services.client_cache``).

Nothing is kept between requests but the client copy, which the version
checks, so a revocation, a withdrawn or expired consent and a changed client
take effect at once in every process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, bindparam, or_, select, type_coerce
from sqlalchemy.types import TypeDecorator

from idp.extensions import db
from idp.models import CardNumber, Client, ClientRecord, Consent, Member, Token
from idp.models.token import hash_value
from idp.services import client_cache

_tokens, _consents = Token.__table__, Consent.__table__
_clients, _members, _cards = Client.__table__, Member.__table__, CardNumber.__table__

#: The token columns a bearer call's checks read. Each column read costs on every
#: call (the driver describes each one anew), so the statements read no more.
_BEARER_COLUMNS = (
    "id", "client_id", "member_id", "consent_id", "scope", "access_expires_at", "revoked_at",
    "claims",
    "dpop_jkt",
)  # fmt: skip
#: And what introspection answers and revocation revokes.
_PRESENTED_COLUMNS = (
    *_BEARER_COLUMNS, "family_id", "access_token_hash", "refresh_token_hash", "token_type",
    "auth_time", "issued_at", "refresh_expires_at", "refresh_used_at",
)  # fmt: skip
_CONSENT_COLUMNS = (
    "scope", "withdrawn_at", "expires_at", "last_used_at", "paused_at", "granted_claims",
    "grant_id",
)  # fmt: skip
#: Member columns released as claims; read as stored, decrypted on use.
_CLAIM_COLUMNS = (
    "email", "email_verified", "given_name", "family_name", "gender", "birthdate",
    "academic_title", "phone_number", "phone_number_verified", "address", "locale",
    "status_tier", "status_miles", "miles_balance",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The consent a token was issued under, as stored when the token was presented."""

    id: str
    scope: str
    withdrawn_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    paused_at: datetime | None
    #: Claims the member granted by themselves (``Consent.granted_claims``).
    granted_claims: list | None
    grant_id: str

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


class _Stored:
    """A member column read without its type's decryption; decrypted on first use."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.column = _cards.c.number if name == "card_number" else _members.c[name]

    def __get__(self, member, owner=None):
        if member is None:
            return self
        raw = member.stored[self.name]
        value = self.column.type.process_result_value(raw, None) if raw is not None else None
        member.__dict__[self.name] = value  # read once per request
        return value


class MemberClaims:
    """The member a bearer token names, with the claim values ``idp.oauth.claims`` reads."""

    email = _Stored()
    given_name = _Stored()
    family_name = _Stored()
    gender = _Stored()
    birthdate = _Stored()
    academic_title = _Stored()
    phone_number = _Stored()
    address = _Stored()
    card_number = _Stored()

    def __init__(self, row) -> None:
        self.id = row["member_id"]
        self.pairwise_salt = row["m_pairwise_salt"]
        self.stored = {name: row[f"m_{name}"] for name in (*_CLAIM_COLUMNS, "card_number")}
        for name in ("email_verified", "phone_number_verified", "locale", "status_tier",
                     "status_miles", "miles_balance"):  # fmt: skip
            setattr(self, name, self.stored[name])

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    def __repr__(self) -> str:  # no personal data in logs
        return f"<MemberClaims {self.id}>"


@dataclass(frozen=True, slots=True)
class _MemberId:
    """What a subject identifier is made of (``idp.services.subjects``)."""

    id: str
    pairwise_salt: str


@dataclass(slots=True)
class TokenState:
    """A token row with its consent, client and member, as the checks read them."""

    id: int
    client_id: int
    member_id: str | None
    consent_id: str | None
    scope: str
    access_expires_at: datetime
    revoked_at: datetime | None
    #: The OIDC ``claims`` request (§5.5) of the authorization behind the token.
    claims: dict | None
    consent: ConsentState | None
    client: ClientRecord | None
    #: The member's id and salt (introspection) or claims too (bearer calls); None without one.
    member: MemberClaims | _MemberId | None
    #: RFC 9449 §6: the thumbprint of the key the token is bound to; None for a bearer token.
    dpop_jkt: str | None = None
    # Read for introspection and revocation only (``_PRESENTED_COLUMNS``):
    family_id: str | None = None
    access_token_hash: str | None = None
    refresh_token_hash: str | None = None
    token_type: str | None = None
    auth_time: datetime | None = None
    issued_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    refresh_used_at: datetime | None = None


def _as_stored(column):
    """The column without its type's result processing: ciphertext stays ciphertext."""
    if isinstance(column.type, TypeDecorator):
        return type_coerce(column, column.type.impl)
    return column


def _statement(where, token_columns, with_claims: bool):
    columns = [_tokens.c[name] for name in token_columns]
    columns += [_consents.c[name].label(f"c_{name}") for name in _CONSENT_COLUMNS]
    columns += [_clients.c.client_id.label("cl_client_id"), _clients.c.version.label("cl_version")]
    columns.append(_members.c.pairwise_salt.label("m_pairwise_salt"))
    if with_claims:
        columns += [_as_stored(_members.c[name]).label(f"m_{name}") for name in _CLAIM_COLUMNS]
        current_card = (
            select(type_coerce(_cards.c.number, Text))
            .where(_cards.c.member_id == _tokens.c.member_id, _cards.c.replaced_at.is_(None))
            .order_by(_cards.c.issued_at)
            .limit(1)
            .scalar_subquery()
        )
        columns.append(current_card.label("m_card_number"))
    joined = (
        _tokens.join(_clients, _clients.c.id == _tokens.c.client_id)
        .outerjoin(_consents, _consents.c.id == _tokens.c.consent_id)
        .outerjoin(_members, _members.c.id == _tokens.c.member_id)
    )
    return select(*columns).select_from(joined).where(where)


_VALUE = bindparam("value_hash")
#: UserInfo and the partner APIs: an access token, with the member's claims.
_BEARER = _statement(_tokens.c.access_token_hash == _VALUE, _BEARER_COLUMNS, with_claims=True)
#: Introspection and revocation: either of a token's two values.
_PRESENTED = _statement(
    or_(_tokens.c.access_token_hash == _VALUE, _tokens.c.refresh_token_hash == _VALUE),
    _PRESENTED_COLUMNS,
    with_claims=False,
)


def _state(row, token_columns, with_claims: bool) -> TokenState:
    consent = None
    if row["consent_id"] is not None and row["c_scope"] is not None:
        consent = ConsentState(row["consent_id"], *(row[f"c_{n}"] for n in _CONSENT_COLUMNS))
    member = None
    if row["member_id"] is not None:
        if with_claims:
            member = MemberClaims(row)
        else:
            member = _MemberId(row["member_id"], row["m_pairwise_salt"])
    client = client_cache.current(row["cl_client_id"], row["client_id"], row["cl_version"])
    return TokenState(
        **{name: row[name] for name in token_columns},
        consent=consent,
        client=client,
        member=member,
    )


def bearer_token(value: str) -> TokenState | None:
    """The access token row of ``value`` with its member's claims; None when unknown."""
    row = db.session.execute(_BEARER, {"value_hash": hash_value(value)}).mappings().first()
    return _state(row, _BEARER_COLUMNS, with_claims=True) if row is not None else None


def presented_token(value: str) -> tuple[TokenState, str] | None:
    """The row whose access or refresh token is ``value``, and which of the two it is."""
    hashed = hash_value(value)
    row = db.session.execute(_PRESENTED, {"value_hash": hashed}).mappings().first()
    if row is None:
        return None
    kind = "access_token" if row["access_token_hash"] == hashed else "refresh_token"
    return _state(row, _PRESENTED_COLUMNS, with_claims=False), kind
