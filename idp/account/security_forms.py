"""The forms of the security page. Labels are the words of INTERFACE.md; each carries CSRF."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, StopValidation

from idp.request_text import is_text
from idp.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

NOT_TEXT = _l("This holds characters that cannot be used.")


def _text(form, field) -> None:
    if isinstance(field.data, str) and not is_text(field.data):
        raise StopValidation(NOT_TEXT)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(_l("Enter your current password.")),
            _text,
            Length(max=1024, message=_l("This is longer than any password we accept.")),
        ],
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Enter a new password.")),
            _text,
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("The new password needs at least %(min)d characters."),
            ),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=_l("The new password may have at most %(max)d characters."),
            ),
        ],
    )


class NewAuthenticatorForm(FlaskForm):
    code = StringField(
        _l("Authentication code"),
        validators=[
            InputRequired(_l("Enter the code from your new authenticator app.")),
            _text,
            Length(max=16, message=_l("The code has six digits.")),
        ],
    )


class RecoveryCodesFileForm(FlaskForm):
    """The codes just shown (separated by spaces), sent back to be checked and made a file."""

    codes = HiddenField(validators=[InputRequired(), _text, Length(max=400)])
