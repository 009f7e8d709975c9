"""The forms of the security page. Labels are the words of INTERFACE.md; each carries CSRF."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from idp.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from idp.web.forms import Text, password_field


class ChangePasswordForm(FlaskForm):
    current_password = password_field(_l("Current password"), _l("Enter your current password."))
    new_password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Enter a new password.")),
            Text(),
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
            Text(),
            Length(max=16, message=_l("The code has six digits.")),
        ],
    )


class RecoveryCodesFileForm(FlaskForm):
    """The codes just shown (separated by spaces), sent back to be checked and made a file."""

    codes = HiddenField(validators=[InputRequired(), Text(), Length(max=400)])
