"""The login forms. Labels are the words of INTERFACE.md; every form carries a CSRF token.

Every field is bounded in length and refuses what is not text (a NUL, bytes that
were not UTF-8), so nothing unbounded or unstorable reaches a lookup.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from idp.web.forms import Text, password_field

SIX_DIGITS = _l("The code has six digits.")


class LoginForm(FlaskForm):
    login = StringField(
        _l("Email or card number"),
        validators=[
            InputRequired(_l("Enter your email address or card number.")),
            Text(),
            Length(max=254, message=_l("This is longer than any email address or card number.")),
        ],
    )
    password = password_field(_l("Password"), _l("Enter your password."))


class AuthenticationCodeForm(FlaskForm):
    """The six-digit code of an authenticator app (login and enrolment)."""

    code = StringField(
        _l("Authentication code"),
        validators=[
            InputRequired(_l("Enter the code from your authenticator app.")),
            Text(SIX_DIGITS),
            Length(max=16, message=SIX_DIGITS),
        ],
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        _l("Recovery code"),
        validators=[
            InputRequired(_l("Enter one of your recovery codes.")),
            Text(_l("A recovery code has 16 characters, letters and digits.")),
            Length(max=64, message=_l("A recovery code has 16 characters, letters and digits.")),
        ],
    )


class EmailCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the email"),
        validators=[
            InputRequired(_l("Enter the code from the email.")),
            Text(SIX_DIGITS),
            Length(max=16, message=SIX_DIGITS),
        ],
    )


# -- the forgotten password and the enrolment link ----------------------------------


class ForgotPasswordForm(FlaskForm):
    login = LoginForm.login


class NewPasswordForm(FlaskForm):
    """A new password through the reset link (the password rules are the service's)."""

    new_password = password_field(_l("New password"), _l("Enter a new password."))


class NewPasswordCodeForm(NewPasswordForm):
    code = AuthenticationCodeForm.code


class NewPasswordRecoveryForm(NewPasswordForm):
    code = RecoveryCodeForm.code


class PasswordForm(FlaskForm):
    """The password again, where an enrolment link is followed in another browser."""

    password = LoginForm.password
