"""Your profile (``/account/profile``): basic data, travel preferences and the email address.

The profile form is stored whole or not at all (``idp.services.profile``). A
new email address needs a recent login and takes effect only once the link
sent to it is followed (``idp.services.email_change``). The link opens a page
with a button rather than changing anything itself: mail scanners that fetch
links must not use up a single-use link. The token travels in the query string
and the form, never in the path (the access log writes paths).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from idp.account import blueprint
from idp.account.profile_forms import EmailChangeForm, ProfileForm, refusal
from idp.services import email_change, profile, sso
from idp.services.errors import Conflict, NotFound, ServiceError
from idp.web.forms import ConfirmForm
from idp.web.guards import login_required, recent_login_required

PAGE = "/account/profile"


def _page(member, form=None, email_form=None, alert=None, status=200):
    if form is None:
        form = ProfileForm(formdata=None, obj=profile.profile_of(member))
    return render_template(
        "account/profile.html",
        member=member,
        form=form,
        email_form=email_form or EmailChangeForm(formdata=None),
        confirm_form=ConfirmForm(),
        pending=email_change.pending_change(member),
        alert=alert,
    ), status


@blueprint.route(PAGE, endpoint="profile")
@login_required
def profile_page():
    return _page(sso.current_member())


@blueprint.post(PAGE)
@login_required
def save_profile():
    member = sso.current_member()
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(
            member, form, alert=_("Your request could not be read. Please try again."), status=400
        )
    change = profile.ProfileChange(**{name: form[name].data or "" for name in profile.FIELDS})
    try:
        changed = profile.update_profile(member, change)
    except profile.InvalidProfile as error:
        for name, message in error.errors.items():
            form[name].errors = [refusal(message)]
        return _page(member, form, status=400)
    # In the language just chosen, which the next page speaks too.
    with force_locale(member.locale or "en"):
        message = _("Your profile is saved.") if changed else _("Nothing changed in your profile.")
    flash(message, "info")
    return redirect(url_for(".profile"), 303)


@blueprint.post(PAGE + "/email")
@recent_login_required
def change_email():
    member = sso.current_member()
    email_form = EmailChangeForm()
    if not email_form.validate_on_submit():
        alert = _("Your request could not be read. Please try again.")
        return _page(member, email_form=email_form, alert=alert, status=400)
    try:
        change = email_change.request_change(member, email_form.new_email.data)
    except email_change.TooManyRequests as error:
        return _page(member, email_form=email_form, alert=refusal(error.message), status=429)
    except ServiceError as error:
        email_form.new_email.errors = [refusal(error.message)]
        return _page(member, email_form=email_form, status=400)
    # The same words whether or not the address has an account: the form tells nobody.
    flash(
        _(
            "Check your inbox at %(email)s and follow the link in our email to confirm the "
            "address. Until then your account keeps its current email address.",
            email=change.new_email,
        ),
        "info",
    )
    return redirect(url_for(".profile"), 303)


@blueprint.post(PAGE + "/email/cancel")
@login_required
def cancel_email_change():
    member = sso.current_member()
    if not ConfirmForm().validate_on_submit():
        return _page(
            member, alert=_("Your request could not be read. Please try again."), status=400
        )
    try:
        change = email_change.cancel(member)
    except NotFound as error:
        return _page(member, alert=refusal(error.message), status=409)
    flash(
        _(
            "The change to %(email)s is cancelled; the link we sent there no longer works.",
            email=change.new_email,
        ),
        "info",
    )
    return redirect(url_for(".profile"), 303)


def _status_of(error: ServiceError) -> int:
    if isinstance(error, email_change.LinkUsed | email_change.LinkExpired):
        return 410  # Gone: the link worked once, and never will again
    if isinstance(error, NotFound):
        return 400
    return 409 if isinstance(error, Conflict) else 400


def _confirm_page(token: str, alert=None, status=200, confirmed=None):
    change = None
    if alert is None and confirmed is None:
        try:
            change = email_change.open_change(token)
        except ServiceError as error:
            alert, status = refusal(error.message), _status_of(error)
    return render_template(
        "account/email_confirm.html",
        change=change,
        token=token,
        form=ConfirmForm(),
        alert=alert,
        confirmed=confirmed,
    ), status


@blueprint.route(PAGE + "/email/confirm")
def confirm_email_page():
    return _confirm_page(request.args.get("token", ""))


@blueprint.post(PAGE + "/email/confirm")
def confirm_email():
    token = request.form.get("token", "")
    if not ConfirmForm().validate_on_submit():
        return _confirm_page(
            token, alert=_("Your request could not be read. Please try again."), status=400
        )
    try:
        member = email_change.confirm(token)
    except ServiceError as error:
        return _confirm_page(token, alert=refusal(error.message), status=_status_of(error))
    current = sso.current_member()
    with force_locale(member.locale or "en"):
        message = _("Your email address is now %(email)s.", email=member.email)
    if current is not None and current.id == member.id:
        flash(message, "info")
        return redirect(url_for(".profile"), 303)
    return _confirm_page(token, confirmed=message)
