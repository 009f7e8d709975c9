"""Linked Lufthansa Group ID profiles, the evidence of each linking decision, and the
browser flows to an airline's ID service that are under way.

A ``LinkedProfile`` is the member's standing link to one profile at one airline:
the airline's slug, the upstream issuer and the profile's subject there (its
``sub``). One profile links to one member, one member to one profile per
airline. Unlinking deletes the link; its ``LinkingRecord`` rows stay.

A ``LinkingRecord`` is the evidence of a linking decision (Art. 6(1)(a) GDPR):
linked or unlinked, the text shown, its hash and language, who acted. Never
updated (the ORM and the database refuse it); the rows go only with the
member's erased account.

An ``UpstreamRequest`` is one authorization request sent to an airline: its
``state`` (stored as a hash), the ``nonce`` (a hash) and the PKCE verifier
(encrypted), the browser and, for linking, the session that started it. It
is answered once (``used_at``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import EncryptedText, UTCDateTime, new_id, utcnow

#: What an upstream request is for.
UPSTREAM_PURPOSES = ("link", "login")


class LinkedProfile(db.Model):
    __tablename__ = "linked_profiles"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        UniqueConstraint("member_id", "airline"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: The airline's slug from ``IDP_LHG_PROVIDERS`` (``lufthansa``, ``swiss``, ...).
    airline: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str] = mapped_column(String(255))
    #: The profile's identifier at the airline: the ``sub`` of its ID tokens.
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkingRecord(db.Model):
    """Evidence of one linking decision, never updated."""

    __tablename__ = "linking_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: ``linked`` or ``unlinked``.
    action: Mapped[str] = mapped_column(String(16))
    airline: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    text_version: Mapped[str | None] = mapped_column(String(200))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    #: Who acted: ``member``, ``admin`` or ``account_deletion``.
    actor: Mapped[str] = mapped_column(String(24), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(LinkingRecord, "before_update")
@event.listens_for(LinkingRecord, "before_delete")
def _refuse_change(mapper, connection, target):
    from idp.models.audit import AppendOnlyError

    raise AppendOnlyError("linking records are append-only")


class UpstreamRequest(db.Model):
    """An authorization request at an airline's ID service, waiting for its answer."""

    __tablename__ = "upstream_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: SHA-256 of the ``state`` sent; the value itself is only in the redirect.
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the browser binding kept in the member's signed session cookie.
    browser_hash: Mapped[str] = mapped_column(String(64))
    airline: Mapped[str] = mapped_column(String(32))
    #: ``link`` (from Linked profiles) or ``login`` (from the login page).
    purpose: Mapped[str] = mapped_column(String(8))
    #: For linking: the member and the SSO session that started it.
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    sid: Mapped[str | None] = mapped_column(String(32))
    nonce_hash: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(EncryptedText)
    #: The linking text shown when the member chose ``Link profile`` (the evidence).
    text_version: Mapped[str | None] = mapped_column(String(200))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
