"""The forgotten password (``/login/forgot``, ``/login/reset/…``) and the enrolment link.

A forgotten password: the member asks for a link (the same answer whether or
not the account exists), follows it, enters a new password and their second
factor; only then is the password set (``idp.services.password_reset``).

Setting up the second factor: after a right password, a member without one
gets a link by mail and the "Check your email" page. Followed in the browser
of that password step, the link goes on to ``/login/enrol``; in another
browser the password is asked first (``idp.services.account_links``).
"""

from __future__ import annotations

from flask import Response, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from idp.extensions import limiter
from idp.login import blueprint
from idp.login.forms import (
    ForgotPasswordForm,
    NewPasswordCodeForm,
    NewPasswordForm,
    NewPasswordRecoveryForm,
    PasswordForm,
)
from idp.login.views import (
    NEXT_KEY,
    OTHER_PAGES,
    _locked,
    _locked_message,
    _page,
    _pending,
    _start_again,
    attempts,
)
from idp.services import account_links, authentication, password_reset, second_factor, sso
from idp.services.account_links import LinkExpired, LinkGone, LinkNotValid
from idp.services.authentication import LockedOut, LoginRefused
from idp.services.errors import InvalidInput
from idp.services.members import get_member
from idp.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from idp.services.second_factor import ResendTooSoon
from idp.web.forms import ConfirmForm
from idp.web.guards import DEFAULT_NEXT
from idp.web.limits import account_link_rate_limit

#: Asking for mail costs the member's inbox, not a guess: a budget of its own.
link_requests = limiter.shared_limit(
    account_link_rate_limit, scope="account-links", methods=["POST"]
)

#: The pages of this module, for the blueprint's 429 handler.
ENDPOINTS = ("login.forgot", "login.reset", "login.enrolment_email", "login.enrolment_link")


# -- the forgotten password ------------------------------------------------------------


@blueprint.route("/login/forgot", methods=["GET", "POST"])
@link_requests
def forgot():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return _forgot_page(form, status=400 if form.is_submitted() else 200)
    password_reset.request_reset(form.login.data)
    minutes = account_links.minutes(account_links.PASSWORD_RESET)
    sent = ngettext(
        "If an account has this email address or card number, we have sent a link to its "
        "email address. The link works for %(num)d minute.",
        "If an account has this email address or card number, we have sent a link to its "
        "email address. The link works for %(num)d minutes.",
        minutes,
    )
    return _forgot_page(ForgotPasswordForm(formdata=None), sent=sent)


def _forgot_page(form, alert=None, sent=None, status=200) -> Response:
    return _page("login/forgot.html", status, form=form, alert=alert, sent=sent)


@blueprint.route("/login/reset/<token>", methods=["GET", "POST"])
@attempts
def reset(token: str):
    try:
        found = password_reset.open_reset_link(token)
    except (LinkNotValid, LinkGone) as exc:
        return _link_problem(exc, account_links.PASSWORD_RESET)
    method = _reset_method(found)
    form = {"totp": NewPasswordCodeForm, "recovery_code": NewPasswordRecoveryForm}.get(
        method, NewPasswordForm
    )()
    if not form.validate_on_submit():
        return _reset_page(form, method, status=400 if form.is_submitted() else 200)
    code = form.code.data if method else ""
    try:
        member = password_reset.reset_password(token, form.new_password.data, method, code)
    except (LinkNotValid, LinkGone) as exc:
        return _link_problem(exc, account_links.PASSWORD_RESET)
    except InvalidInput:
        return _reset_page(form, method, alert=_password_rules(), status=400)
    except LockedOut as exc:
        return _locked(_reset_page(form, method, alert=_locked_message(exc), status=429), exc)
    except LoginRefused:
        alert = _("That code is not right. Please check it and try again.")
        return _reset_page(form, method, alert=alert, status=400)
    if method is None:
        # No second factor yet: the link proved the address, so this browser enrols now.
        sso.begin_pending_login(member, ["pwd"])
        account_links.allow_enrolment(member.id)
        session[NEXT_KEY] = DEFAULT_NEXT
        flash(_("Your password has been changed. Now set up two-step verification."), "info")
        return redirect(url_for(".enrol"))
    flash(_("Your password has been changed. Log in with your new password."), "info")
    return redirect(url_for(".login"))


def _reset_method(found) -> str | None:
    """The second factor this page asks for: None without one, else TOTP or a recovery code."""
    if not found.has_second_factor:
        return None
    return "recovery_code" if request.args.get("with") == "recovery" else "totp"


def _password_rules() -> str:
    return _(
        "The new password needs %(min)d to %(max)d characters.",
        min=MIN_PASSWORD_LENGTH,
        max=MAX_PASSWORD_LENGTH,
    )


def _reset_page(form, method, alert=None, status=200) -> Response:
    return _page(
        "login/reset.html",
        status,
        form=form,
        method=method,
        alert=alert,
        hint=_password_rules(),
        action=request.path + ("?with=recovery" if method == "recovery_code" else ""),
    )


def _link_problem(exc, purpose: str) -> Response:
    """A link that is unknown (404), used or expired (410): say so, and how to get another."""
    if purpose == account_links.PASSWORD_RESET:
        again = _("Ask for a new link on the forgotten password page.")
        where = url_for(".forgot")
    else:
        again = _("Log in again to get a new link.")
        where = url_for(".login")
    if isinstance(exc, LinkNotValid):
        message, status = _("This link is not valid."), 404
    elif isinstance(exc, LinkExpired):
        message, status = _("This link has expired."), 410
    else:
        message, status = _("This link has been used already."), 410
    return _page("login/link_problem.html", status, alert=f"{message} {again}", where=where)


# -- setting up the second factor by an emailed link -------------------------------------


@blueprint.route("/login/enrol/email", methods=["GET", "POST"])
@link_requests
def enrolment_email():
    """ "Check your email", and the link sent again on request."""
    found = _pending()
    if found is None:
        return _start_again()
    _pending_login, member = found
    if second_factor.has_totp(member):
        return redirect(url_for(".verify"))
    form = ConfirmForm()
    if form.is_submitted():
        if not form.validate():
            return _check_email_page(member, status=400)
        try:
            account_links.send_enrolment_link(member, asked_again=True)
        except ResendTooSoon as exc:
            message = ngettext(
                "A link was sent a moment ago. You can ask for a new one in %(num)d second.",
                "A link was sent a moment ago. You can ask for a new one in %(num)d seconds.",
                exc.seconds,
            )
            response = _check_email_page(member, alert=message, status=429)
            response.headers["Retry-After"] = str(exc.seconds)
            return response
        flash(_("We have sent a new link."), "info")
        return redirect(url_for(".enrolment_email"))
    return _check_email_page(member)


def _check_email_page(member, alert=None, status=200) -> Response:
    minutes = account_links.minutes(account_links.ENROLMENT)
    sent = ngettext(
        "We have sent a link to %(address)s. Follow it to set up two-step verification. "
        "It works for %(num)d minute.",
        "We have sent a link to %(address)s. Follow it to set up two-step verification. "
        "It works for %(num)d minutes.",
        minutes,
        address=second_factor.mask_email(member.email),
    )
    return _page(
        "login/check_email.html", status, form=ConfirmForm(formdata=None), alert=alert, sent=sent
    )


@blueprint.route("/login/enrol/link/<token>", methods=["GET", "POST"])
@attempts
def enrolment_link(token: str):
    """The link from the mail: on to enrolment here, or after the password elsewhere."""
    try:
        link = account_links.open_link(token, account_links.ENROLMENT)
    except (LinkNotValid, LinkGone) as exc:
        return _link_problem(exc, account_links.ENROLMENT)
    found = _pending()
    if found is not None and found[1].id == link.member_id:
        return _follow(link)
    form = PasswordForm()
    if not form.validate_on_submit():
        return _confirm_page(form, status=400 if form.is_submitted() else 200)
    member = get_member(link.member_id)
    try:
        checked = authentication.check_password(member.email, form.password.data)
    except LockedOut as exc:
        return _locked(_confirm_page(form, alert=_locked_message(exc), status=429), exc)
    except LoginRefused:
        return _confirm_page(form, alert=_wrong_password_message(), status=400)
    if checked.id != link.member_id:  # an address taken over meanwhile: refuse
        return _confirm_page(form, alert=_wrong_password_message(), status=400)
    sso.end_session(reason="replaced")
    sso.begin_pending_login(checked, ["pwd"])
    session[NEXT_KEY] = DEFAULT_NEXT
    return _follow(link)


def _follow(link) -> Response:
    try:
        account_links.follow_enrolment_link(link)
    except LinkGone as exc:
        return _link_problem(exc, account_links.ENROLMENT)
    return redirect(url_for(".enrol"))


def _wrong_password_message() -> str:
    return _("That password is not right. Please check it and try again.")


def _confirm_page(form, alert=None, status=200) -> Response:
    return _page("login/confirm_password.html", status, form=form, alert=alert)


# -- the blueprint's rate-limit answer for these pages -------------------------------------


def page_with(message: str, status: int) -> Response:
    """The page of this request again with ``message`` (the 429 of a rate limit)."""
    endpoint = request.endpoint
    if endpoint == "login.forgot":
        return _forgot_page(ForgotPasswordForm(formdata=None), alert=message, status=status)
    if endpoint in ("login.enrolment_email", "login.enrol") and (found := _pending()) is not None:
        return _check_email_page(found[1], alert=message, status=status)
    if endpoint == "login.enrolment_link":
        return _confirm_page(PasswordForm(formdata=None), alert=message, status=status)
    return _page("login/link_problem.html", status, alert=message, where=url_for(".login"))


OTHER_PAGES.update(dict.fromkeys(ENDPOINTS, page_with))
