"""Forms and fields more than one blueprint shows. Every form carries a CSRF token.

Every field is bounded in length and refuses what is not text (a NUL, bytes that
were not UTF-8), so nothing unbounded or unstorable reaches a lookup.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length, StopValidation

from idp.request_text import is_text

NOT_TEXT = _l("This holds characters that cannot be used.")
#: Longer than any password a member can have set; the bound keeps hashing cheap.
PASSWORD_FIELD_LIMIT = 1024


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: one button that does one thing."""


class Text:
    """Refuses a value holding a NUL or characters that were not UTF-8."""

    def __init__(self, message=NOT_TEXT):
        self.message = message

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and not is_text(field.data):
            raise StopValidation(self.message)


def password_field(label, required_message) -> PasswordField:
    """A password the member types: required, text, and bounded in length."""
    return PasswordField(
        label,
        validators=[
            InputRequired(required_message),
            Text(),
            Length(
                max=PASSWORD_FIELD_LIMIT,
                message=_l("This is longer than any password we accept."),
            ),
        ],
    )
