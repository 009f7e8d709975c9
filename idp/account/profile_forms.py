"""The profile page's forms, their choices and the words for what the profile service refuses.

The forms carry the CSRF token and render the fields; the rules are
``idp.services.profile`` and ``idp.services.email_change``, whose English
messages are turned into the member's language here.
"""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.fields import SelectChoice

from idp.services.profile import COUNTRIES

GENDER_CHOICES = [
    ("", _l("No answer")),
    ("female", _l("Female")),
    ("male", _l("Male")),
    ("diverse", _l("Diverse")),
    ("unspecified", _l("Not specified")),
]
#: Each language named in itself, as a member looking for their own reads it.
LANGUAGE_CHOICES = [("en", "English"), ("de", "Deutsch"), ("nl", "Nederlands"), ("pl", "Polski")]
SEAT_CHOICES = [("", _l("No preference")), ("window", _l("Window")), ("aisle", _l("Aisle"))]
#: IATA special meal codes, with the code shown for members who know it from booking.
MEAL_CHOICES = [
    ("", _l("No preference")),
    ("VGML", _l("Vegan (VGML)")),
    ("VLML", _l("Vegetarian with milk and eggs (VLML)")),
    ("AVML", _l("Asian vegetarian (AVML)")),
    ("KSML", _l("Kosher (KSML)")),
    ("MOML", _l("Muslim (MOML)")),
    ("HNML", _l("Hindu (HNML)")),
    ("GFML", _l("Gluten-free (GFML)")),
    ("DBML", _l("Diabetic (DBML)")),
    ("LFML", _l("Low fat (LFML)")),
    ("CHML", _l("Child meal (CHML)")),
]


def country_choices() -> list[tuple[str, str]]:
    """Every country by its name in the page's language, in that language's order."""
    names = Locale.parse(str(get_locale() or "en")).territories
    countries = sorted(((code, names.get(code, code)) for code in COUNTRIES), key=lambda c: c[1])
    return [("", _l("Choose a country"))] + countries


def _choices(pairs) -> list[SelectChoice]:
    """The options in the language of this request."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def _select(label) -> SelectField:
    # The service checks the value (with a message of its own), not WTForms.
    return SelectField(label, choices=[], validate_choice=False)


class ProfileForm(FlaskForm):
    given_name = StringField(_l("Given name"))
    family_name = StringField(_l("Family name"))
    academic_title = StringField(_l("Academic title"))
    gender = _select(_l("Gender"))
    birthdate = StringField(_l("Date of birth"), render_kw={"type": "date"})
    phone_number = TelField(_l("Phone number"))
    street_address = StringField(_l("Street and house number"))
    postal_code = StringField(_l("Postal code"))
    locality = StringField(_l("City"))
    country = _select(_l("Country"))
    locale = _select(_l("Language of correspondence"))
    home_airport = StringField(_l("Home airport"))
    seat = _select(_l("Seat preference"))
    meal = _select(_l("Meal preference"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gender.choices = _choices(GENDER_CHOICES)
        self.country.choices = _choices(country_choices())
        self.locale.choices = _choices(LANGUAGE_CHOICES)
        self.seat.choices = _choices(SEAT_CHOICES)
        self.meal.choices = _choices(MEAL_CHOICES)


class EmailChangeForm(FlaskForm):
    new_email = EmailField(_l("New email address"))


#: The profile and email change services' messages, in the member's language.
REFUSALS = {
    "No change of your email address is waiting.": _l(
        "No change of your email address is waiting."
    ),
    "This holds characters that cannot be used.": _l("This holds characters that cannot be used."),
    "Enter your given name.": _l("Enter your given name."),
    "A given name can have up to 100 characters.": _l(
        "A given name can have up to 100 characters."
    ),
    "Enter your family name.": _l("Enter your family name."),
    "A family name can have up to 100 characters.": _l(
        "A family name can have up to 100 characters."
    ),
    "An academic title can have up to 40 characters.": _l(
        "An academic title can have up to 40 characters."
    ),
    "Choose a gender from the list.": _l("Choose a gender from the list."),
    "Enter the date of birth as YYYY-MM-DD.": _l("Enter the date of birth as YYYY-MM-DD."),
    "Enter a real date of birth.": _l("Enter a real date of birth."),
    "Enter the phone number in international form, e.g. +49 69 123456.": _l(
        "Enter the phone number in international form, e.g. +49 69 123456."
    ),
    "Enter the street and house number.": _l("Enter the street and house number."),
    "The street can have up to 200 characters.": _l("The street can have up to 200 characters."),
    "A postal code has up to 16 letters and digits.": _l(
        "A postal code has up to 16 letters and digits."
    ),
    "Enter the city.": _l("Enter the city."),
    "The city can have up to 100 characters.": _l("The city can have up to 100 characters."),
    "Choose the country.": _l("Choose the country."),
    "Choose a language of correspondence from the list.": _l(
        "Choose a language of correspondence from the list."
    ),
    "Enter the three-letter IATA code of the airport, e.g. FRA.": _l(
        "Enter the three-letter IATA code of the airport, e.g. FRA."
    ),
    "Choose a seat preference from the list.": _l("Choose a seat preference from the list."),
    "Choose a meal preference from the list.": _l("Choose a meal preference from the list."),
    "Enter your new email address.": _l("Enter your new email address."),
    "Enter a valid email address.": _l("Enter a valid email address."),
    "This is your email address already.": _l("This is your email address already."),
    "You asked for a new email address too often today.": _l(
        "You asked for a new email address too often today. Please try again tomorrow."
    ),
    "This link is not valid.": _l("This link is not valid."),
    "This link has been used already or was replaced by a newer one.": _l(
        "This link has been used already or was replaced by a newer one."
    ),
    "This link has expired. Ask for a new one on your profile.": _l(
        "This link has expired. Ask for a new one on your profile."
    ),
    "This email address now belongs to another account.": _l(
        "This email address now belongs to another account."
    ),
}


def refusal(message: str):
    """The member's words for a service message; a generic one for any not listed."""
    return REFUSALS.get(message, _l("This could not be saved. Please check your input."))
