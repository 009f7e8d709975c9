"""The evidence of consent (SPEC.md §5): what the member was shown and what they chose.

Every decision (given or changed) and every withdrawal appends a
``ConsentRecord``: the scopes chosen and declined (and the claims chosen and
declined one by one, asked for through the ``claims`` parameter), the purposes, the period,
who acted, and, for a decision, the identifier and SHA-256 hash of the exact
text shown and its language. The rows are append-only (the model refuses
changes); a withdrawn consent keeps all of its records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from idp.catalog import CONSENT_TEXT_VERSIONS
from idp.extensions import db
from idp.models import Consent, ConsentRecord
from idp.models.types import utcnow
from idp.services import analytics


@dataclass(frozen=True)
class Evidence:
    """The text a member saw when deciding: which version, its hash, in which language."""

    text_version: str
    text_sha256: str
    language: str


def text_version_of(purposes) -> str:
    """The identifier of the consent text for these purposes, e.g. ``miles-2026-11-01``."""
    return " ".join(CONSENT_TEXT_VERSIONS.get(p, f"{p}-unversioned") for p in purposes)


def evidence_for(text: str, purposes, language: str) -> Evidence:
    """Evidence of the exact ``text`` shown (the screen's words, one line each)."""
    return Evidence(
        text_version=text_version_of(purposes),
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        language=language,
    )


def add_record(
    consent: Consent, action: str, evidence: Evidence | None = None, actor: str = "member"
) -> ConsentRecord:
    """Append one piece of evidence for ``consent`` to the caller's transaction."""
    record = ConsentRecord(
        consent_id=consent.id,
        member_id=consent.member_id,
        client_id=consent.client_id,
        action=action,
        scope=consent.scope,
        declined_scope=consent.declined_scope or "",
        granted_claims=list(consent.granted_claims or []),
        declined_claims=list(consent.declined_claims or []),
        purposes=list(consent.purposes or []),
        unlimited=bool(consent.unlimited),
        expires_at=consent.expires_at,
        text_version=evidence.text_version if evidence else None,
        text_sha256=evidence.text_sha256 if evidence else None,
        language=evidence.language if evidence else None,
        actor=actor,
        created_at=utcnow(),
    )
    db.session.add(record)
    analytics.count_consent(consent, action)
    return record


def history(member_id: str) -> list[ConsentRecord]:
    """The member's consent evidence, newest first."""
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.member_id == member_id)
            .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        )
    )
