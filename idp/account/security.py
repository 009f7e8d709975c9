"""The security page (``/account/security``): password, authenticator app, codes, sessions.

Every change needs a login from the last ``recent_login_seconds``; replacing the
authenticator app needs a recent *two-factor* login, because it hands the second
factor to whoever holds the session. Each section of the page is a
``<section>`` of its own, and each action posts to its own URL and renders the
page again with one ``role="alert"`` (4xx) or ``role="status"`` message.

Recovery codes are stored hashed and shown once. ``Download as text`` does not
keep them anywhere: the page's form sends back the codes it shows, they are
checked against the stored hashes (only unused codes of this member pass) and
returned as a text file with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from math import ceil

import segno
from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from idp.account import blueprint
from idp.account.linked_profiles import _recent_two_factor_login
from idp.account.security_forms import (
    ChangePasswordForm,
    NewAuthenticatorForm,
    RecoveryCodesFileForm,
)
from idp.extensions import limiter
from idp.models.types import utcnow
from idp.services import authentication, second_factor, security_settings, session_details, sso
from idp.services.authentication import LockedOut, LoginRefused
from idp.services.errors import InvalidInput
from idp.services.passwords import MIN_PASSWORD_LENGTH
from idp.web.forms import ConfirmForm
from idp.web.guards import login_required, login_url, recent_login_required
from idp.web.limits import login_rate_limit

#: Password and code attempts here share the login's per-address budget.
attempts = limiter.shared_limit(login_rate_limit, scope="login-attempts", methods=["POST"])

PAGE = "/account/security"
AUTHENTICATOR_PAGE = PAGE + "/authenticator"
CODES_FILE_NAME = "miles-and-more-recovery-codes.txt"


@blueprint.route(PAGE)
@recent_login_required
def security():
    return _page()


# -- password ----------------------------------------------------------------------


@blueprint.route(PAGE + "/password", methods=["POST"])
@attempts
@recent_login_required
def change_password():
    member = sso.current_member()
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form, alert=_csrf_alert(form), status=400)
    try:
        ended = security_settings.change_password(
            member,
            form.current_password.data,
            form.new_password.data,
            keep_sid=sso.current_session().id,
        )
    except LockedOut as exc:
        return _locked(_page(password_form=form, alert=_locked_message(exc), status=429), exc)
    except LoginRefused:
        form.current_password.errors = [_("The current password is not right.")]
        return _page(password_form=form, alert=_("The current password is not right."), status=400)
    except security_settings.SamePassword:
        alert = _("The new password is the same as the current one. Please choose another.")
        return _page(password_form=form, alert=alert, status=400)
    except InvalidInput:
        return _page(password_form=form, alert=_("Please choose another password."), status=400)
    confirmation = _("Your password is changed.")
    if ended:
        confirmation += " " + ngettext(
            "%(num)d other session was logged out.",
            "%(num)d other sessions were logged out.",
            ended,
        )
    return _page(confirmation=confirmation)


# -- authenticator app -------------------------------------------------------------


@blueprint.route(AUTHENTICATOR_PAGE, methods=["GET", "POST"])
@attempts
@recent_login_required
def replace_authenticator():
    member = sso.current_member()
    if not second_factor.has_totp(member):
        flash(_("Two-step verification is not set up yet."), "error")
        return redirect(url_for(".security"), 303)
    if not _recent_two_factor_login():
        flash(_("For your security, please log in again to continue."), "info")
        return redirect(login_url(AUTHENTICATOR_PAGE, prompt="login"), 303)
    form = NewAuthenticatorForm()
    if not form.validate_on_submit():
        alert = _csrf_alert(form) if form.is_submitted() else None
        return _authenticator_page(member, form, alert, 400 if form.is_submitted() else 200)
    try:
        security_settings.replace_authenticator(member, form.code.data)
    except LoginRefused:
        alert = _(
            "That code is not right. Check that you added the new key to your app and "
            "enter its current code. Your previous app still works."
        )
        return _authenticator_page(member, form, alert, 400)
    return _page(
        confirmation=_(
            "Your new authenticator app is set up. Codes from the previous app no longer work."
        )
    )


def _authenticator_page(member, form, alert, status):
    key = security_settings.replacement_key(member)
    uri = second_factor.provisioning_uri(member, key)
    qr = segno.make(uri, error="m").svg_inline(
        scale=4, border=2, svgclass="qr-code", title=_("QR code of your key")
    )
    page = render_template(
        "account/authenticator.html",
        form=form,
        alert=alert,
        key=second_factor.group_key(key),
        qr=Markup(qr),  # noqa: S704  (segno's own SVG of a URI it encodes; no input markup)
    )
    return page, status


# -- recovery codes ----------------------------------------------------------------


@blueprint.route(PAGE + "/recovery-codes", methods=["POST"])
@recent_login_required
def regenerate_recovery_codes():
    if not ConfirmForm().validate_on_submit():
        return _page(alert=_("Your request could not be read. Please try again."), status=400)
    member = sso.current_member()
    codes = authentication.regenerate_recovery_codes(member)
    confirmation = _("New recovery codes are ready. Your old codes no longer work.")
    return _page(codes=codes, confirmation=confirmation)


@blueprint.route(PAGE + "/recovery-codes/file", methods=["POST"])
@login_required
def download_recovery_codes():
    """The codes the page just showed, as a text file; only real, unused codes pass."""
    member = sso.current_member()
    form = RecoveryCodesFileForm()
    alert = _("These are not your current recovery codes. Please create new ones.")
    if not form.validate_on_submit():
        return _page(alert=_csrf_alert(form) or alert, status=400)
    try:
        codes = security_settings.confirm_recovery_codes(member, form.codes.data.split())
    except InvalidInput:
        return _page(alert=alert, status=400)
    lines = [
        _("Miles & More recovery codes for %(email)s", email=member.email),
        _("Each code lets you log in once. Keep this file somewhere safe."),
        "",
        *codes,
        "",
    ]
    return Response(
        "\n".join(lines),
        mimetype="text/plain",
        headers={
            "Content-Disposition": f'attachment; filename="{CODES_FILE_NAME}"',
            "Cache-Control": "no-store",
        },
    )


# -- sessions ----------------------------------------------------------------------


@blueprint.route(PAGE + "/sessions/<sid>/end", methods=["POST"])
@recent_login_required
def end_session(sid: str):
    if not ConfirmForm().validate_on_submit():
        return _page(alert=_("Your request could not be read. Please try again."), status=400)
    member = sso.current_member()
    if sid == sso.current_session().id:
        return _page(alert=_("This is the session you are using. To end it, log out."), status=400)
    if not sso.end_member_session(member.id, sid, reason="ended_by_member"):
        abort(404)
    return _page(confirmation=_("The session is ended. That device is logged out."))


@blueprint.route(PAGE + "/sessions/end-others", methods=["POST"])
@recent_login_required
def end_other_sessions():
    if not ConfirmForm().validate_on_submit():
        return _page(alert=_("Your request could not be read. Please try again."), status=400)
    member = sso.current_member()
    ended = sso.end_member_sessions(
        member.id, reason="ended_by_member", except_sid=sso.current_session().id
    )
    confirmation = ngettext(
        "%(num)d other session was logged out.", "%(num)d other sessions were logged out.", ended
    )
    return _page(confirmation=confirmation)


def _sessions(member_id: str, current_sid: str) -> list[dict]:
    shown = []
    for live in sso.live_sessions(member_id):
        device = session_details.device_of(live.user_agent)
        shown.append(
            {
                "id": live.id,
                "device": device,
                "signed_in": live.created_at,
                "last_seen": live.last_seen_at,
                "network": session_details.shown_prefix(live.address_prefix),
                "current": live.id == current_sid,
            }
        )
    shown.sort(key=lambda s: not s["current"])  # this device first
    return shown


# -- the page ----------------------------------------------------------------------


def _page(password_form=None, codes=None, confirmation=None, alert=None, status=200):
    member = sso.current_member()
    current = sso.current_session()
    page = render_template(
        "account/security.html",
        member=member,
        password_form=password_form or ChangePasswordForm(formdata=None),
        has_totp=second_factor.has_totp(member),
        remaining=second_factor.remaining_recovery_codes(member),
        codes=codes,
        sessions=_sessions(member.id, current.id),
        confirmation=confirmation,
        alert=alert,
        form=ConfirmForm(),
        min_password_length=MIN_PASSWORD_LENGTH,
    )
    return page, status


def _csrf_alert(form) -> str | None:
    if "csrf_token" in form.errors:
        return _("Your request could not be read. Please try again.")
    return None


def _locked_message(exc: LockedOut) -> str:
    minutes = max(1, ceil((exc.until - utcnow()).total_seconds() / 60))
    return ngettext(
        "Too many failed attempts. For your security, please try again in %(num)d minute.",
        "Too many failed attempts. For your security, please try again in %(num)d minutes.",
        minutes,
    )


def _locked(response, exc: LockedOut):
    body, status = response
    return body, status, {"Retry-After": str(max(1, ceil((exc.until - utcnow()).total_seconds())))}
