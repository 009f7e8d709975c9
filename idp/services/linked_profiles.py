"""Linked Lufthansa Group ID profiles: the rules of linking, unlinking and logging in.

A profile is linked only after both sides authenticated in one browser flow:
the member at Miles & More (a recent two-factor login, whose session started
the request) and the profile at the airline (an ID token for this request's
``nonce``). Email addresses never link anything. A profile linked to another
member is refused, and the attempt is an audit event.

Linking is consent (Art. 6(1)(a) GDPR): every link and unlink appends a
``LinkingRecord`` with the text the member was shown, its hash and language;
unlinking withdraws the consent and keeps the records.

Upstream requests are stored here (``open_request``) and answered once
(``take_request``: checked and marked used in one statement).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.models import LinkedProfile, LinkingRecord, Member, UpstreamRequest
from idp.models.types import utcnow
from idp.services import audit
from idp.services.consent_evidence import Evidence

ACTORS = ("member", "admin", "account_deletion")


class LinkingRefused(Exception):
    """A link that the rules do not allow; ``reason`` names which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


#: ``LinkingRefused.reason`` values.
LINKED_TO_ANOTHER_MEMBER = "linked_to_another_member"
AIRLINE_ALREADY_LINKED = "airline_already_linked"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class OpenRequest:
    """A stored upstream request, as its answer needs it."""

    id: str
    airline: str
    purpose: str
    member_id: str | None
    sid: str | None
    nonce_hash: str
    code_verifier: str
    evidence: Evidence | None


# -- requests under way ----------------------------------------------------------


def open_request(
    *,
    airline: str,
    purpose: str,
    state: str,
    browser_binding: str,
    nonce_hash: str,
    code_verifier: str,
    member_id: str | None = None,
    sid: str | None = None,
    evidence: Evidence | None = None,
) -> None:
    """Keep an authorization request sent to an airline until its answer. Commits."""
    now = utcnow()
    seconds = current_app.config["IDP"].upstream_request_seconds
    db.session.add(
        UpstreamRequest(
            state_hash=_hash(state),
            browser_hash=_hash(browser_binding),
            airline=airline,
            purpose=purpose,
            member_id=member_id,
            sid=sid,
            nonce_hash=nonce_hash,
            code_verifier=code_verifier,
            text_version=evidence.text_version if evidence else None,
            text_sha256=evidence.text_sha256 if evidence else None,
            language=evidence.language if evidence else None,
            created_at=now,
            expires_at=now + timedelta(seconds=seconds),
        )
    )
    db.session.commit()


def take_request(airline: str, state: str | None, browser_binding: str | None):
    """The request this answer belongs to, marked used; None when there is none.

    None for a forged ``state``, one already answered (a replay), an expired one,
    one of another airline, or one started in another browser. Commits.
    """
    if not state or not browser_binding or len(state) > 512:
        return None
    now = utcnow()
    taken = db.session.execute(
        update(UpstreamRequest)
        .where(
            UpstreamRequest.state_hash == _hash(state),
            UpstreamRequest.browser_hash == _hash(browser_binding),
            UpstreamRequest.airline == airline,
            UpstreamRequest.used_at.is_(None),
            UpstreamRequest.expires_at > now,
        )
        .values(used_at=now)
        .returning(UpstreamRequest.id)
    ).scalar()
    db.session.commit()
    if taken is None:
        return None
    row = db.session.get(UpstreamRequest, taken)
    evidence = (
        Evidence(row.text_version, row.text_sha256, row.language) if row.text_version else None
    )
    return OpenRequest(
        id=row.id,
        airline=row.airline,
        purpose=row.purpose,
        member_id=row.member_id,
        sid=row.sid,
        nonce_hash=row.nonce_hash,
        code_verifier=row.code_verifier,
        evidence=evidence,
    )


def record_failure(airline: str, purpose: str, kind: str, detail: str, member_id=None) -> None:
    """An answer refused (state, upstream error, ID token): audited, nothing else. Commits."""
    audit.record(
        "linking.upstream_refused",
        member_id=member_id,
        airline=airline,
        purpose=purpose,
        kind=kind,
        detail=detail,
    )
    db.session.commit()


# -- links -------------------------------------------------------------------------


def profiles_of(member_id: str) -> list[LinkedProfile]:
    return list(
        db.session.scalars(
            select(LinkedProfile)
            .where(LinkedProfile.member_id == member_id)
            .order_by(LinkedProfile.airline)
        )
    )


def profile_for(issuer: str, subject: str) -> LinkedProfile | None:
    return db.session.scalar(
        select(LinkedProfile).where(
            LinkedProfile.issuer == issuer, LinkedProfile.subject == subject
        )
    )


def _record(profile: LinkedProfile, action: str, evidence: Evidence | None, actor: str) -> None:
    db.session.add(
        LinkingRecord(
            member_id=profile.member_id,
            action=action,
            airline=profile.airline,
            issuer=profile.issuer,
            subject=profile.subject,
            text_version=evidence.text_version if evidence else None,
            text_sha256=evidence.text_sha256 if evidence else None,
            language=evidence.language if evidence else None,
            actor=actor,
            created_at=utcnow(),
        )
    )


def link(
    member: Member, airline: str, issuer: str, subject: str, evidence: Evidence | None
) -> LinkedProfile:
    """Link the profile (``issuer``, ``subject``) at ``airline`` to ``member``. Commits.

    The same profile linked again is left as it is. Refused (``LinkingRefused``,
    audited) when the profile is linked to another member, or the member has
    another profile at that airline.
    """
    existing = profile_for(issuer, subject)
    if existing is not None and existing.member_id == member.id:
        return existing
    if existing is not None:
        _refuse(member.id, airline, LINKED_TO_ANOTHER_MEMBER)
    if any(p.airline == airline for p in profiles_of(member.id)):
        _refuse(member.id, airline, AIRLINE_ALREADY_LINKED)
    now = utcnow()
    profile = LinkedProfile(
        member_id=member.id, airline=airline, issuer=issuer, subject=subject, linked_at=now
    )
    db.session.add(profile)
    _record(profile, "linked", evidence, "member")
    audit.record("linking.linked", member_id=member.id, airline=airline, issuer=issuer)
    try:
        db.session.commit()
    except IntegrityError:  # the same profile linked meanwhile by another request
        db.session.rollback()
        _refuse(member.id, airline, LINKED_TO_ANOTHER_MEMBER)
    return profile


def _refuse(member_id: str, airline: str, reason: str):
    audit.record("linking.refused", member_id=member_id, airline=airline, reason=reason)
    db.session.commit()
    raise LinkingRefused(reason)


def _unlink(profile: LinkedProfile, actor: str, evidence: Evidence | None) -> None:
    _record(profile, "unlinked", evidence, actor)
    audit.record(
        "linking.unlinked",
        member_id=profile.member_id,
        airline=profile.airline,
        issuer=profile.issuer,
        actor=actor,
    )
    db.session.execute(delete(LinkedProfile).where(LinkedProfile.id == profile.id))


def unlink(member_id: str, airline: str, actor: str = "member", evidence=None) -> bool:
    """Withdraw the link at ``airline`` (its evidence stays); False when none. Commits."""
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r}")
    profile = db.session.scalar(
        select(LinkedProfile).where(
            LinkedProfile.member_id == member_id, LinkedProfile.airline == airline
        )
    )
    if profile is None:
        return False
    _unlink(profile, actor, evidence)
    db.session.commit()
    return True


def unlink_airlines(member_id: str, airlines, actor: str) -> int:
    """Withdraw the links at ``airlines`` in the caller's transaction (no commit).

    For a withdrawal at a partner that is also a linked airline
    (``idp.services.withdrawal``): the one decision covers both.
    """
    wanted = set(airlines)
    found = [p for p in profiles_of(member_id) if p.airline in wanted]
    for profile in found:
        _unlink(profile, actor, None)
    return len(found)


def history(member_id: str) -> list[LinkingRecord]:
    """The member's linking evidence, newest first."""
    return list(
        db.session.scalars(
            select(LinkingRecord)
            .where(LinkingRecord.member_id == member_id)
            .order_by(LinkingRecord.created_at.desc(), LinkingRecord.id.desc())
        )
    )


# -- logging in with a linked profile ----------------------------------------------


def member_for_login(airline: str, issuer: str, subject: str) -> Member | None:
    """The member the profile is linked to, noted and audited; None when not linked.

    Never another lookup (an email address, a name): an unlinked profile logs
    nobody in and creates nobody. Commits.
    """
    profile = profile_for(issuer, subject)
    if profile is None or profile.airline != airline:
        audit.record("login.upstream_not_linked", airline=airline, issuer=issuer)
        db.session.commit()
        return None
    member = db.session.get(Member, profile.member_id)
    profile.last_login_at = utcnow()
    audit.record("login.upstream_authenticated", member_id=profile.member_id, airline=airline)
    db.session.commit()
    return member


# -- the airline as a partner --------------------------------------------------------


def airlines_of_partner(partner) -> set[str]:
    """The configured airlines that ``partner`` is (a partner of category ``lhg_airline``).

    An ``IDP_LHG_PROVIDERS`` entry names its partner with ``partner_id``; without one,
    the airline partner of the same name is it.
    """
    if partner is None or partner.category != "lhg_airline":
        return set()
    found = set()
    for entry in current_app.config["IDP"].lhg_providers:
        named = entry.get("partner_id")
        if named == partner.id or (
            not named and entry["name"].casefold() == partner.name.casefold()
        ):
            found.add(entry["airline"])
    return found
