"""An erased account (GDPR Art. 17) and the card numbers that may never be issued again.

A ``MemberErasure`` marks a member whose account was deleted: the member row
keeps no personal data, and what retention law requires to be kept (the
consent evidence, the audit events) is *blocked* until the date stored here,
then erased by ``mam-idp purge``. ``member_id`` is deliberately not a foreign
key: the marker outlives the member row until the last blocked audit event
is gone.

A ``RetiredCardNumber`` keeps only the blind index of a card number of an
erased account (never the number), so the number is never given to anyone
else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import UTCDateTime, utcnow


class MemberErasure(db.Model):
    __tablename__ = "member_erasures"

    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The consent evidence (consent and linking records) is blocked until then.
    evidence_blocked_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The member's audit events are blocked until then.
    audit_blocked_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Set by the purge that erases the evidence (the member row goes with it).
    evidence_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by the purge that erases the audit events; the database allows their
    #: deletion only once this is set (see the migration ``0012_data_erasure``).
    audit_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<MemberErasure {self.member_id}>"


class RetiredCardNumber(db.Model):
    __tablename__ = "retired_card_numbers"

    #: The blind index of the number (``idp.services.members.card_index``), never the number.
    number_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
