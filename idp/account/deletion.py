"""Account deletion (``/account/delete``, GDPR Art. 17): password and second factor again.

The page asks for the password and then the second factor (a code from the
authenticator app, or a recovery code), checked as at login: every attempt
counts towards the account's lockout, and a locked account gets 429. Only
when both are right does ``account_deletion.delete_account`` run (one
transaction); the browser's session ends with it.
"""

from __future__ import annotations

from math import ceil

from flask import Response, g, render_template, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from idp.account import blueprint
from idp.extensions import limiter
from idp.models.types import utcnow
from idp.services import account_deletion, authentication, second_factor, sso
from idp.services.authentication import LockedOut, LoginRefused
from idp.web.forms import Text, password_field
from idp.web.guards import login_required
from idp.web.limits import login_rate_limit

#: Deletion attempts share the per-address budget of login attempts.
attempts = limiter.shared_limit(login_rate_limit, scope="login-attempts", methods=["POST"])


class DeleteAccountForm(FlaskForm):
    password = password_field(_l("Password"), _l("Enter your password."))
    code = StringField(
        _l("Authentication code"),
        validators=[
            InputRequired(_l("Enter the code from your authenticator app or a recovery code.")),
            Text(),
            Length(max=32, message=_l("This is longer than any code we send.")),
        ],
    )


def factor_of(code: str) -> authentication.SecondFactor:
    """Six digits are an authenticator code; anything else is taken as a recovery code."""
    cleaned = "".join((code or "").split())
    return "totp" if cleaned.isdigit() and len(cleaned) == 6 else "recovery_code"


@blueprint.route("/account/delete", methods=["GET", "POST"], endpoint="delete_account")
@login_required
@attempts
def delete_account_page():
    member = sso.current_member()
    form = DeleteAccountForm()
    if not form.is_submitted():
        return _page(form, member)
    if not form.validate_on_submit():
        alert = None if form.errors.keys() - {"csrf_token"} else _expired_form_message()
        return _page(form, member, alert=alert, status=400)
    refused = _check_factors(member, form)
    if refused is not None:
        return refused
    account_deletion.delete_account(member.id)
    session.pop(sso.TOKEN_KEY, None)
    g.pop("sso_session", None)
    return render_template("account/deleted.html")


def _check_factors(member, form) -> Response | None:
    """Password, then the second factor, as at login; a response when refused.

    A refused page never shows the code again (a recovery code stays a secret).
    """
    code = form.code.data
    form.code.data = ""
    try:
        authentication.check_password(member.email, form.password.data)
        authentication.check_second_factor(member, factor_of(code), code)
    except LockedOut as exc:
        seconds = max(1, ceil((exc.until - utcnow()).total_seconds()))
        response = _page(form, member, alert=_locked_message(seconds), status=429)
        response.headers["Retry-After"] = str(seconds)
        return response
    except LoginRefused:
        alert = _("Your password or the code is not right. Your account has not been deleted.")
        return _page(form, member, alert=alert, status=400)
    return None


def _expired_form_message() -> str:
    return _("Your request could not be read. Please try again.")


def _locked_message(seconds: int) -> str:
    minutes = max(1, ceil(seconds / 60))
    return ngettext(
        "Too many failed attempts. For your security, please try again in %(num)d minute.",
        "Too many failed attempts. For your security, please try again in %(num)d minutes.",
        minutes,
    )


def _page(form, member, alert=None, status: int = 200):
    body = render_template(
        "account/delete.html",
        form=form,
        alert=alert,
        has_totp=second_factor.has_totp(member),
    )
    return Response(body, status=status)
