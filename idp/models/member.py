"""The member: a stable internal identifier with basic, status and programme data.

Personal data fields are encrypted at rest. The email address and card numbers
are found again through blind indexes (see ``idp.crypto``). Card numbers change
over a membership (status change, lost card), so they live in their own table
with their history; nothing outside this aggregate ever uses a card number as
an identifier.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.models.types import EncryptedJSON, EncryptedText, UTCDateTime, new_id, utcnow

STATUS_TIERS = ("base", "frequent_traveller", "senator", "hon_circle")
GENDERS = ("female", "male", "diverse", "unspecified")
CARD_REPLACEMENT_REASONS = ("enrolment", "status_change", "lost_card", "reissue")
#: Travel preferences the programme keeps (privacy policy §2.1: departure airport, seat,
#: meal). Meals are IATA special meal codes.
SEAT_PREFERENCES = ("window", "aisle")
MEAL_PREFERENCES = ("VGML", "VLML", "AVML", "KSML", "MOML", "HNML", "GFML", "DBML", "LFML", "CHML")


class Member(db.Model):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(
            "status_tier IN ('base', 'frequent_traveller', 'senator', 'hon_circle')",
            name="status_tier",
        ),
        CheckConstraint("status_miles >= 0", name="status_miles"),
        CheckConstraint("miles_balance >= 0", name="miles_balance"),
    )

    #: The stable internal identifier: never changes, never shown to partners as such.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: Mixed into pairwise subject identifiers (``idp.services.subjects``); never changes.
    pairwise_salt: Mapped[str] = mapped_column(String(32), default=new_id)
    email_index: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(EncryptedText)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    given_name: Mapped[str] = mapped_column(EncryptedText)
    family_name: Mapped[str] = mapped_column(EncryptedText)
    gender: Mapped[str | None] = mapped_column(EncryptedText)
    birthdate: Mapped[str | None] = mapped_column(EncryptedText)
    academic_title: Mapped[str | None] = mapped_column(EncryptedText)
    phone_number: Mapped[str | None] = mapped_column(EncryptedText)
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[dict | None] = mapped_column(EncryptedJSON)
    #: ``{"home_airport": IATA code, "seat": SEAT_PREFERENCES, "meal": MEAL_PREFERENCES}``.
    travel_preferences: Mapped[dict | None] = mapped_column(EncryptedJSON)
    #: Preferred language of correspondence and pages (en, de, nl, pl).
    locale: Mapped[str | None] = mapped_column(String(8))
    status_tier: Mapped[str] = mapped_column(String(24), default="base")
    status_miles: Mapped[int] = mapped_column(Integer, default=0)
    miles_balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: When an operator disabled the account (``idp.services.member_status``); None when usable.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The RISC 1.0 §2.3 ``reason`` it was disabled for: hijacking, bulk-account or other.
    disabled_reason: Mapped[str | None] = mapped_column(String(16))

    cards: Mapped[list[CardNumber]] = relationship(
        back_populates="member", order_by="CardNumber.issued_at", cascade="all, delete-orphan"
    )

    @property
    def card_number(self) -> str | None:
        current = self.current_card
        return current.number if current else None

    @property
    def current_card(self) -> CardNumber | None:
        return next((card for card in self.cards if card.replaced_at is None), None)

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    def __repr__(self) -> str:  # no personal data in logs
        return f"<Member {self.id}>"


class CardNumber(db.Model):
    """A card number a member holds or held; the current one has no ``replaced_at``."""

    __tablename__ = "card_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: Card numbers are never reissued, so the index is unique over the history.
    number_index: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(EncryptedText)
    reason: Mapped[str] = mapped_column(String(24), default="enrolment")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(back_populates="cards")

    def __repr__(self) -> str:
        return f"<CardNumber {self.id} of {self.member_id}>"
