"""The member's basic data as the member edits it on ``/account/profile``.

Basic data are what the programme's privacy policy (§2.1) names: name,
academic title, gender, date of birth, postal address, phone number, the
language of correspondence and travel preferences (departure airport, seat,
meal). Every field is checked first and the member is written only when all of
them pass, in one commit: a refused form changes nothing.

The same columns are the claims UserInfo and ID tokens release (OIDC Core
§5.1), read from the database at each call, so partners see a change at their
next request. A new phone number is not verified (``phone_number_verified``
false, OIDC Core §5.1). Partners with a Shared Signals stream whose consent
covers a changed claim are told by a CAEP ``token-claims-change`` event
(``ssf_member_events.claims_changed``), in the same commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from babel import Locale

from idp.extensions import db
from idp.locales import LOCALES
from idp.models import Member
from idp.models.member import GENDERS, MEAL_PREFERENCES, SEAT_PREFERENCES
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, ssf_member_events
from idp.services.errors import InvalidInput

MAX_NAME_LENGTH = 100
MAX_TITLE_LENGTH = 40
MAX_STREET_LENGTH = 200
MAX_CITY_LENGTH = 100

#: E.164 as the OIDC ``phone_number`` claim wants it (the same rule as enrolment).
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
#: What members type between the digits of a phone number.
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
#: Postal codes the world over: letters, digits, a space or a hyphen (e.g. 60549, 1012 AB, 00-950).
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 \-]{0,14}[A-Za-z0-9])?$")
#: Line breaks, tabs and other control characters: no profile field holds one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: An IATA airport code: three letters.
_AIRPORT = re.compile(r"^[A-Z]{3}$")
#: Babel's territory codes that are groups or placeholders rather than countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
#: ISO 3166-1 alpha-2 codes of countries and territories (the address claim's ``country``).
COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)

#: The profile fields, in the order of the form.
FIELDS = (
    "given_name", "family_name", "academic_title", "gender", "birthdate", "phone_number",
    "street_address", "postal_code", "locality", "country", "locale",
    "home_airport", "seat", "meal",
)  # fmt: skip


class InvalidProfile(InvalidInput):
    """Some fields were refused; ``errors`` maps each to its (English) message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


@dataclass
class ProfileChange:
    """The profile form as submitted: every field a string, empty when left blank."""

    given_name: str = ""
    family_name: str = ""
    academic_title: str = ""
    gender: str = ""
    birthdate: str = ""
    phone_number: str = ""
    street_address: str = ""
    postal_code: str = ""
    locality: str = ""
    country: str = ""
    locale: str = ""
    home_airport: str = ""
    seat: str = ""
    meal: str = ""


@dataclass
class _Checked:
    """The values to store, or the message for each field that was refused."""

    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def profile_of(member: Member) -> ProfileChange:
    """The member's stored profile, as the form shows it."""
    address = member.address or {}
    travel = member.travel_preferences or {}
    return ProfileChange(
        given_name=member.given_name or "",
        family_name=member.family_name or "",
        academic_title=member.academic_title or "",
        gender=member.gender or "",
        birthdate=member.birthdate or "",
        phone_number=member.phone_number or "",
        street_address=address.get("street_address", ""),
        postal_code=address.get("postal_code", ""),
        locality=address.get("locality", ""),
        country=address.get("country", ""),
        locale=member.locale or "en",
        home_airport=travel.get("home_airport", ""),
        seat=travel.get("seat", ""),
        meal=travel.get("meal", ""),
    )


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _check_name(checked: _Checked, name: str, value: str, missing: str, too_long: str) -> None:
    if not value:
        checked.refuse(name, missing)
    elif len(value) > MAX_NAME_LENGTH:
        checked.refuse(name, too_long)
    checked.values[name] = value


def _check_birthdate(checked: _Checked, value: str) -> None:
    checked.values["birthdate"] = value or None
    if not value:
        return
    try:
        born = date.fromisoformat(value)
    except ValueError:
        checked.refuse("birthdate", "Enter the date of birth as YYYY-MM-DD.")
        return
    if len(value) != 10 or born > date.today() or born.year < 1900:
        checked.refuse("birthdate", "Enter a real date of birth.")


def normalize_phone_number(value: str) -> str:
    """``+49 (69) 123-456`` and ``0049 69 123456`` become ``+4969123456``."""
    number = _PHONE_SEPARATORS.sub("", value)
    if number.startswith("00"):
        number = "+" + number[2:]
    return number


def _check_phone(checked: _Checked, value: str) -> None:
    number = normalize_phone_number(value) if value else ""
    if number and not _PHONE.match(number):
        checked.refuse(
            "phone_number", "Enter the phone number in international form, e.g. +49 69 123456."
        )
    checked.values["phone_number"] = number or None


def _check_address(checked: _Checked, change: ProfileChange) -> None:
    street, postal_code = _text(change.street_address), _text(change.postal_code)
    locality, country = _text(change.locality), _text(change.country).upper()
    if not (street or postal_code or locality or country):
        checked.values["address"] = None
        return
    if not street:
        checked.refuse("street_address", "Enter the street and house number.")
    elif len(street) > MAX_STREET_LENGTH:
        checked.refuse("street_address", "The street can have up to 200 characters.")
    if postal_code and not _POSTAL_CODE.match(postal_code):
        checked.refuse("postal_code", "A postal code has up to 16 letters and digits.")
    if not locality:
        checked.refuse("locality", "Enter the city.")
    elif len(locality) > MAX_CITY_LENGTH:
        checked.refuse("locality", "The city can have up to 100 characters.")
    if country not in COUNTRIES:
        checked.refuse("country", "Choose the country.")
    address = {
        "street_address": street,
        "postal_code": postal_code,
        "locality": locality,
        "country": country,
    }
    checked.values["address"] = {k: v for k, v in address.items() if v}


def _check_travel(checked: _Checked, change: ProfileChange) -> None:
    airport = _text(change.home_airport).upper()
    seat, meal = _text(change.seat), _text(change.meal)
    if airport and not _AIRPORT.match(airport):
        checked.refuse("home_airport", "Enter the three-letter IATA code of the airport, e.g. FRA.")
    if seat and seat not in SEAT_PREFERENCES:
        checked.refuse("seat", "Choose a seat preference from the list.")
    if meal and meal not in MEAL_PREFERENCES:
        checked.refuse("meal", "Choose a meal preference from the list.")
    travel = {"home_airport": airport, "seat": seat, "meal": meal}
    checked.values["travel_preferences"] = {k: v for k, v in travel.items() if v} or None


def check(change: ProfileChange) -> dict:
    """The column values to store; raises ``InvalidProfile`` naming every refused field."""
    checked = _Checked()
    for name in FIELDS:
        value = getattr(change, name)
        if not isinstance(value, str) or not is_text(value) or _CONTROL.search(value):
            checked.refuse(name, "This holds characters that cannot be used.")
    _check_name(
        checked,
        "given_name",
        _text(change.given_name),
        "Enter your given name.",
        "A given name can have up to 100 characters.",
    )
    _check_name(
        checked,
        "family_name",
        _text(change.family_name),
        "Enter your family name.",
        "A family name can have up to 100 characters.",
    )
    title = _text(change.academic_title)
    if len(title) > MAX_TITLE_LENGTH:
        checked.refuse("academic_title", "An academic title can have up to 40 characters.")
    checked.values["academic_title"] = title or None
    gender = _text(change.gender)
    if gender and gender not in GENDERS:
        checked.refuse("gender", "Choose a gender from the list.")
    checked.values["gender"] = gender or None
    _check_birthdate(checked, _text(change.birthdate))
    _check_phone(checked, _text(change.phone_number))
    _check_address(checked, change)
    locale = _text(change.locale)
    if locale not in LOCALES:
        checked.refuse("locale", "Choose a language of correspondence from the list.")
    checked.values["locale"] = locale
    _check_travel(checked, change)
    if checked.errors:
        # In the order of the form, so the first message is the first field's.
        raise InvalidProfile({n: checked.errors[n] for n in FIELDS if n in checked.errors})
    return checked.values


def update_profile(member: Member, change: ProfileChange) -> list[str]:
    """Store the whole profile or nothing; commits. Returns the names of the changed columns."""
    values = check(change)
    changed = [name for name, value in values.items() if getattr(member, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(member, name, values[name])
    if "phone_number" in changed:
        member.phone_number_verified = False
    ssf_member_events.claims_changed(member, changed, at=int(utcnow().timestamp()))
    audit.record("member.profile_updated", member_id=member.id, fields=sorted(changed))
    db.session.commit()
    return changed
