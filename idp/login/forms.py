"""The login forms. Labels are the words of INTERFACE.md; every form carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    login = StringField(
        _l("Email or card number"),
        validators=[
            InputRequired(_l("Enter your email address or card number.")),
            Length(max=254, message=_l("This is longer than any email address or card number.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("This is longer than any password we accept.")),
        ],
    )


class AuthenticationCodeForm(FlaskForm):
    """The six-digit code of an authenticator app (login and enrolment)."""

    code = StringField(
        _l("Authentication code"),
        validators=[
            InputRequired(_l("Enter the code from your authenticator app.")),
            Length(max=16, message=_l("The code has six digits.")),
        ],
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        _l("Recovery code"),
        validators=[
            InputRequired(_l("Enter one of your recovery codes.")),
            Length(max=64, message=_l("A recovery code has 16 characters, letters and digits.")),
        ],
    )


class EmailCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the email"),
        validators=[
            InputRequired(_l("Enter the code from the email.")),
            Length(max=16, message=_l("The code has six digits.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: one button that does one thing."""
