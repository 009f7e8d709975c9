"""The member's data export (GDPR Art. 15 access, Art. 20 portability; SPEC.md §7).

One JSON document with everything held about the member, decrypted, for that
member only: the basic, status and programme data, the card numbers with their
history, each consent with its evidence, what each partner read and when
(``PartnerAccess``), linked profiles with their evidence, sessions, tokens
(which partner holds which access, never a token value or its hash), the
second factors enrolled with the passkeys (never a password hash, a TOTP key,
a pending TOTP key or a passkey's public key or credential id), the changes of
email address asked for, the links mailed to the member (purpose and dates,
never a link's hash) and the audit events about the member. The top-level keys
of INTERFACE.md are always there.

``export`` builds the document and records the audit event of the export
(commits); ``document`` only builds it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, union

from idp.catalog import SCOPE_DATA_CATEGORIES
from idp.extensions import db
from idp.models import (
    AccountLink,
    AuditEvent,
    CardNumber,
    Client,
    Consent,
    ConsentRecord,
    Credential,
    EmailChange,
    LinkingRecord,
    Member,
    Partner,
    PartnerAccess,
    Passkey,
    RecoveryCode,
    SSOSession,
    Token,
)
from idp.models.types import utcnow
from idp.services import audit, linked_profiles
from idp.services.subjects import subject_for

#: The version of the document's layout; raised when a key changes meaning.
FORMAT = "mam-idp-export/1"

#: The member's own columns, as stored (decrypted); internal keys and indexes are left out.
MEMBER_FIELDS = (
    "id", "email", "email_verified", "given_name", "family_name", "gender", "birthdate",
    "academic_title", "phone_number", "phone_number_verified", "address", "locale",
    "travel_preferences", "status_tier", "status_miles", "miles_balance", "created_at",
    "updated_at",
)  # fmt: skip


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _scopes(value: str | None) -> list[str]:
    return sorted(set((value or "").split()))


def _rows(model, member_id: str, order: tuple, *fields: str | tuple[str, str]) -> list[dict]:
    """The member's rows of ``model`` in ``order``, each as a dict of ``fields``.

    A field is an attribute's name, or ``(key, attribute)`` to export it under another key.
    """
    pairs = [(f, f) if isinstance(f, str) else f for f in fields]
    rows = db.session.scalars(select(model).where(model.member_id == member_id).order_by(*order))
    return [{key: _value(getattr(row, attribute)) for key, attribute in pairs} for row in rows]


def _member(member: Member) -> dict:
    return {name: _value(getattr(member, name)) for name in MEMBER_FIELDS}


def _card_numbers(member_id: str) -> list[dict]:
    cards = db.session.scalars(
        select(CardNumber).where(CardNumber.member_id == member_id).order_by(CardNumber.issued_at)
    )
    return [
        {
            "number": card.number,
            "current": card.replaced_at is None,
            "reason": card.reason,
            "issued_at": _value(card.issued_at),
            "replaced_at": _value(card.replaced_at),
        }
        for card in cards
    ]


def _clients(member_id: str) -> dict[int, tuple[Client, Partner]]:
    """Every client the member's consents, evidence or tokens name, with its partner."""
    ids = union(
        select(Consent.client_id).where(Consent.member_id == member_id),
        select(ConsentRecord.client_id).where(ConsentRecord.member_id == member_id),
        select(Token.client_id).where(Token.member_id == member_id),
    )
    rows = db.session.execute(
        select(Client, Partner)
        .join(Partner, Partner.id == Client.partner_id)
        .where(Client.id.in_(ids))
    )
    return {client.id: (client, partner) for client, partner in rows}


def _client(clients: dict, client_pk: int) -> dict:
    client, partner = clients[client_pk]
    return {
        "partner_id": partner.id,
        "partner": partner.name,
        "client_id": client.client_id,
        "client_name": client.client_name,
    }


def _consents(member: Member, clients: dict) -> list[dict]:
    consents = db.session.scalars(
        select(Consent).where(Consent.member_id == member.id).order_by(Consent.granted_at)
    )
    return [
        {
            "id": consent.id,
            **_client(clients, consent.client_id),
            # The identifier this partner knows the member by (OIDC Core §8).
            "subject": subject_for(member, clients[consent.client_id][0]),
            "scopes": _scopes(consent.scope),
            "declined_scopes": _scopes(consent.declined_scope),
            "claims": list(consent.granted_claims or []),
            "declined_claims": list(consent.declined_claims or []),
            "purposes": list(consent.purposes or []),
            "unlimited": consent.unlimited,
            "text_versions": dict(consent.text_versions or {}),
            "granted_at": _value(consent.granted_at),
            "updated_at": _value(consent.updated_at),
            "expires_at": _value(consent.expires_at),
            "last_used_at": _value(consent.last_used_at),
            "withdrawn_at": _value(consent.withdrawn_at),
        }
        for consent in consents
    ]


def _consent_records(member_id: str, clients: dict) -> list[dict]:
    records = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.member_id == member_id)
        .order_by(ConsentRecord.created_at, ConsentRecord.id)
    )
    return [
        {
            "id": record.id,
            "consent_id": record.consent_id,
            **_client(clients, record.client_id),
            "action": record.action,
            "actor": record.actor,
            "scopes": _scopes(record.scope),
            "declined_scopes": _scopes(record.declined_scope),
            "claims": list(record.granted_claims or []),
            "declined_claims": list(record.declined_claims or []),
            "purposes": list(record.purposes or []),
            "unlimited": record.unlimited,
            "expires_at": _value(record.expires_at),
            "text_version": record.text_version,
            "text_sha256": record.text_sha256,
            "language": record.language,
            "created_at": _value(record.created_at),
        }
        for record in records
    ]


def _partner_access(member_id: str) -> list[dict]:
    rows = db.session.execute(
        select(PartnerAccess, Partner.name)
        .join(Partner, Partner.id == PartnerAccess.partner_id)
        .where(PartnerAccess.member_id == member_id)
        .order_by(PartnerAccess.day.desc(), Partner.name, PartnerAccess.category)
    )
    return [
        {
            "partner_id": access.partner_id,
            "partner": name,
            "category": access.category,
            "data_category": SCOPE_DATA_CATEGORIES.get(access.category),
            "day": access.day.isoformat(),
            "count": access.count,
        }
        for access, name in rows
    ]


def _linked_profiles(member_id: str) -> list[dict]:
    return [
        {
            "airline": profile.airline,
            "issuer": profile.issuer,
            "profile_id": profile.subject,
            "linked_at": _value(profile.linked_at),
            "last_login_at": _value(profile.last_login_at),
        }
        for profile in linked_profiles.profiles_of(member_id)
    ]


def _linking_records(member_id: str) -> list[dict]:
    return _rows(
        LinkingRecord,
        member_id,
        (LinkingRecord.created_at, LinkingRecord.id),
        "action", "actor", "airline", "issuer", ("profile_id", "subject"), "text_version",
        "text_sha256", "language", "created_at",
    )  # fmt: skip


def _sessions(member_id: str) -> list[dict]:
    sessions = db.session.scalars(
        select(SSOSession).where(SSOSession.member_id == member_id).order_by(SSOSession.created_at)
    )
    return [
        {
            "sid": session.id,
            "created_at": _value(session.created_at),
            "auth_time": _value(session.auth_time),
            "amr": list(session.amr or []),
            "acr": session.acr,
            "user_agent": session.user_agent,
            # The network the session started from (IPv4 /24, IPv6 /48), as stored.
            "address_prefix": session.address_prefix,
            "last_seen_at": _value(session.last_seen_at),
            "expires_at": _value(session.expires_at),
            "ended_at": _value(session.ended_at),
        }
        for session in sessions
    ]


def _tokens(member_id: str, clients: dict) -> list[dict]:
    tokens = db.session.scalars(
        select(Token).where(Token.member_id == member_id).order_by(Token.issued_at, Token.id)
    )
    return [
        {
            **_client(clients, token.client_id),
            "scopes": _scopes(token.scope),
            "refresh_token": token.refresh_token_hash is not None,
            "issued_at": _value(token.issued_at),
            "access_expires_at": _value(token.access_expires_at),
            "refresh_expires_at": _value(token.refresh_expires_at),
            "revoked_at": _value(token.revoked_at),
        }
        for token in tokens
    ]


def _second_factors(member_id: str) -> dict:
    credential = db.session.get(Credential, member_id)
    unused = db.session.scalars(
        select(RecoveryCode.created_at).where(
            RecoveryCode.member_id == member_id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    return {
        "password_changed_at": _value(credential.password_changed_at) if credential else None,
        "totp_enrolled_at": _value(credential.totp_enrolled_at) if credential else None,
        "unused_recovery_codes": len(unused),
        "passkeys": _passkeys(member_id),
    }


def _passkeys(member_id: str) -> list[dict]:
    """What the member sees of each passkey; no key material and no credential id."""
    passkeys = db.session.scalars(
        select(Passkey).where(Passkey.member_id == member_id).order_by(Passkey.created_at)
    )
    return [
        {
            "name": passkey.name,
            "kind": passkey.kind,
            # BE/BS of WebAuthn §6.1: the key may be, or is, synced to other devices.
            "synced": passkey.backup_eligible or passkey.backed_up,
            "added_at": _value(passkey.created_at),
            "last_used_at": _value(passkey.last_used_at),
        }
        for passkey in passkeys
    ]


def _email_changes(member_id: str) -> list[dict]:
    """Each change of address asked for, pending or done; never the link's hash."""
    return _rows(
        EmailChange,
        member_id,
        (EmailChange.created_at, EmailChange.id),
        "new_email", ("requested_at", "created_at"), "expires_at", "confirmed_at", "cancelled_at",
    )  # fmt: skip


def _account_links(member_id: str) -> list[dict]:
    """The password-reset and enrolment links mailed: purpose and dates, never the hash."""
    return _rows(
        AccountLink,
        member_id,
        (AccountLink.created_at, AccountLink.id),
        "purpose", "created_at", "expires_at", "used_at",
    )  # fmt: skip


def _audit_events(member_id: str) -> list[dict]:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.member_id == member_id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return [
        {
            "occurred_at": _value(event.occurred_at),
            "event": event.event,
            "client_id": event.client_id,
            "ip_address": event.ip_address,
            "details": event.details or {},
        }
        for event in events
    ]


def document(member: Member) -> dict:
    """Everything held about ``member``, as one JSON-ready dict."""
    clients = _clients(member.id)
    return {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "member": _member(member),
        "card_numbers": _card_numbers(member.id),
        "consents": _consents(member, clients),
        "consent_records": _consent_records(member.id, clients),
        "partner_access": _partner_access(member.id),
        "linked_profiles": _linked_profiles(member.id),
        "linking_records": _linking_records(member.id),
        "sessions": _sessions(member.id),
        "tokens": _tokens(member.id, clients),
        "second_factors": _second_factors(member.id),
        "email_changes": _email_changes(member.id),
        "account_links": _account_links(member.id),
        "audit_events": _audit_events(member.id),
    }


def export(member: Member, sid: str | None = None) -> dict:
    """The member's document; the export is audited (``account.data_exported``). Commits."""
    built = document(member)
    audit.record("account.data_exported", member_id=member.id, sid=sid)
    db.session.commit()
    return built
