"""Members: enrolment, lookup by login name, card number changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pyotp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.extensions import db, keyring
from idp.locales import LOCALES
from idp.models import CardNumber, Credential, Member, RetiredCardNumber
from idp.models.member import CARD_REPLACEMENT_REASONS, GENDERS, STATUS_TIERS
from idp.models.types import utcnow
from idp.services import audit
from idp.services.cards import generate_card_number, is_valid_card_number, normalize_card_number
from idp.services.errors import Conflict, InvalidInput
from idp.services.passwords import check_new_password, hash_password

# Deliberately permissive (RFC 5322 allows far more); the address is confirmed by mail.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164, as the OIDC phone_number claim wants
_BASE32 = re.compile(r"^[A-Z2-7]+$")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def email_index(email: str) -> str:
    return keyring.blind_index("email:" + normalize_email(email))


def card_index(number: str) -> str:
    return keyring.blind_index("card:" + number)


@dataclass
class NewMember:
    email: str
    password: str
    given_name: str
    family_name: str
    card_number: str | None = None
    phone_number: str | None = None
    birthdate: str | None = None
    gender: str | None = None
    locale: str | None = None
    status_tier: str = "base"
    status_miles: int = 0
    miles_balance: int = 0
    totp_secret: str | None = None
    #: True only when the address is known to reach the member (confirmed by a link, or
    #: vouched for by the system the member is imported from).
    email_verified: bool = False


def _validate(new: NewMember) -> None:
    if not _EMAIL.match(normalize_email(new.email)):
        raise InvalidInput("Enter a valid email address.", field="email")
    check_new_password(new.password)
    if not new.given_name.strip() or len(new.given_name) > 100:
        raise InvalidInput("Enter a given name of up to 100 characters.", field="given_name")
    if not new.family_name.strip() or len(new.family_name) > 100:
        raise InvalidInput("Enter a family name of up to 100 characters.", field="family_name")
    if new.card_number is not None and not is_valid_card_number(
        normalize_card_number(new.card_number)
    ):
        raise InvalidInput(
            "A card number has 15 digits, starts with 992 and ends with a Luhn check digit.",
            field="card_number",
        )
    if new.phone_number is not None and not _PHONE.match(new.phone_number):
        raise InvalidInput(
            "Enter the phone number in international form, e.g. +4969123456.",
            field="phone_number",
        )
    if new.birthdate is not None:
        try:
            born = date.fromisoformat(new.birthdate)
        except ValueError as exc:
            raise InvalidInput("Enter the date of birth as YYYY-MM-DD.", field="birthdate") from exc
        if born > date.today() or born.year < 1900:
            raise InvalidInput("Enter a real date of birth.", field="birthdate")
    if new.gender is not None and new.gender not in GENDERS:
        raise InvalidInput(f"Gender is one of {', '.join(GENDERS)}.", field="gender")
    if new.locale is not None and new.locale not in LOCALES:
        raise InvalidInput(f"Language is one of {', '.join(LOCALES)}.", field="locale")
    if new.status_tier not in STATUS_TIERS:
        raise InvalidInput(f"Status is one of {', '.join(STATUS_TIERS)}.", field="status_tier")
    if new.miles_balance < 0 or new.status_miles < 0:
        raise InvalidInput("Miles cannot be negative.", field="miles")
    if new.totp_secret is not None:
        normalize_totp_secret(new.totp_secret)


def normalize_totp_secret(secret: str) -> str:
    """An authenticator key as apps expect it: upper-case base32 without padding."""
    key = re.sub(r"\s", "", secret or "").upper().rstrip("=")
    # 80 bits is the floor of RFC 4226 §4 (R6); 128 bits or more is recommended.
    if not _BASE32.match(key) or len(key) < 16:
        raise InvalidInput(
            "A TOTP key is base32 (A-Z, 2-7) of at least 16 characters.", field="totp_secret"
        )
    try:
        pyotp.TOTP(key).now()
    except Exception as exc:  # pyotp raises binascii.Error and ValueError alike
        raise InvalidInput("The TOTP key is not valid base32.", field="totp_secret") from exc
    return key


def create_member(new: NewMember) -> Member:
    """Enrol a member; commits. Raises ``InvalidInput`` or ``Conflict``."""
    _validate(new)
    email = normalize_email(new.email)
    if find_by_email(email) is not None:
        raise Conflict("A member with this email address exists already.", field="email")

    number = normalize_card_number(new.card_number) if new.card_number else None
    if number is not None and _card_taken(number):
        raise Conflict("This card number is in use.", field="card_number")
    while number is None or _card_taken(number):
        number = generate_card_number()

    # Hashed before the first write: argon2's ~100 ms must not hold SQLite's write lock.
    password_hash = hash_password(new.password)
    now = utcnow()
    member = Member(
        email_index=email_index(email),
        email=email,
        email_verified=new.email_verified,
        given_name=new.given_name.strip(),
        family_name=new.family_name.strip(),
        gender=new.gender,
        birthdate=new.birthdate,
        phone_number=new.phone_number,
        locale=new.locale,
        status_tier=new.status_tier,
        status_miles=new.status_miles,
        miles_balance=new.miles_balance,
    )
    member.cards.append(CardNumber(number_index=card_index(number), number=number, issued_at=now))
    db.session.add(member)
    db.session.flush()
    credential = Credential(member_id=member.id, password_hash=password_hash)
    if new.totp_secret is not None:
        credential.totp_secret = normalize_totp_secret(new.totp_secret)
        credential.totp_enrolled_at = now
    db.session.add(credential)
    audit.record("member.created", member_id=member.id, totp_imported=new.totp_secret is not None)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("A member with this email address or card number exists already.") from exc
    return member


def _card_taken(number: str) -> bool:
    """Held now, held before, or held by an erased account: card numbers are never reissued."""
    indexes = _card_indexes(number)
    return (
        db.session.scalar(select(CardNumber.id).where(CardNumber.number_index.in_(indexes)))
        is not None
        or db.session.scalar(
            select(RetiredCardNumber.number_index).where(
                RetiredCardNumber.number_index.in_(indexes)
            )
        )
        is not None
    )


def _card_indexes(number: str) -> list[str]:
    return keyring.blind_indexes("card:" + number)


def find_by_email(email: str) -> Member | None:
    indexes = keyring.blind_indexes("email:" + normalize_email(email))
    return db.session.scalar(select(Member).where(Member.email_index.in_(indexes)))


def find_by_card_number(number: str) -> Member | None:
    """The member whose *current* card has this number."""
    number = normalize_card_number(number)
    if not is_valid_card_number(number):
        return None
    return db.session.scalar(
        select(Member)
        .join(CardNumber)
        .where(CardNumber.number_index.in_(_card_indexes(number)), CardNumber.replaced_at.is_(None))
    )


def find_by_login(login: str) -> Member | None:
    """A login name is an email address or a card number."""
    login = (login or "").strip()
    if "@" in login:
        return find_by_email(login)
    return find_by_card_number(login)


def get_member(member_id: str) -> Member | None:
    return db.session.get(Member, member_id)


def replace_card_number(member: Member, reason: str, new_number: str | None = None) -> CardNumber:
    """Issue a new card number (status change, lost card); the old one stays as history."""
    if reason not in CARD_REPLACEMENT_REASONS or reason == "enrolment":
        raise InvalidInput("Unknown reason for a new card number.", field="reason")
    if new_number is not None:
        new_number = normalize_card_number(new_number)
        if not is_valid_card_number(new_number):
            raise InvalidInput("This is not a valid card number.", field="card_number")
        if _card_taken(new_number):
            raise Conflict("This card number is in use.", field="card_number")
    number = new_number
    while number is None or _card_taken(number):
        number = generate_card_number()
    now = utcnow()
    current = member.current_card
    if current is not None:
        current.replaced_at = now
    card = CardNumber(number_index=card_index(number), number=number, reason=reason, issued_at=now)
    member.cards.append(card)
    audit.record("member.card_replaced", member_id=member.id, reason=reason)
    db.session.commit()
    return card
