"""Passkeys on the security page (``/account/security``): add, rename, remove.

``Add passkey`` runs a WebAuthn registration (W3C WebAuthn Level 3 §7.1) from
``static/js/passkeys.js``: the browser asks for the options (a JSON POST),
creates the credential, and sends the attestation back as JSON. Both need a
recent two-factor login, as removing one does. Errors of the JSON endpoints
are RFC 9457 problem documents whose ``detail`` the page shows; a ``login``
member tells the script where to log in again.
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, make_response, redirect, request, url_for
from flask_babel import gettext as _

from idp.account import blueprint
from idp.account.linked_profiles import _recent_two_factor_login
from idp.request_text import is_text
from idp.services import passkeys, sso
from idp.services.errors import InvalidInput
from idp.web.forms import ConfirmForm
from idp.web.guards import login_url

PAGE = "/account/security"


@blueprint.context_processor
def passkey_helpers():
    """What ``account/_passkeys.html`` reads: the member's passkeys and their kinds."""

    def member_passkeys():
        member = sso.current_member()
        return passkeys.passkeys_of(member.id) if member else []

    kinds = {
        "platform": _("Built into a device"),
        "security_key": _("Security key"),
        "unknown": _("Passkey"),
    }
    return {"member_passkeys": member_passkeys, "passkey_kinds": kinds}


def _problem(status: int, detail: str, **extra):
    """An RFC 9457 problem document; ``extra`` members tell the script what to do next."""
    body = {"type": "about:blank", "title": _("Passkey"), "status": status, "detail": detail}
    response = jsonify({**body, **extra})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _log_in_again():
    return _problem(
        403,
        _("For your security, please log in again to continue."),
        login=login_url(PAGE, prompt="login"),
    )


def _json_guard():
    """A problem when the member may not add a passkey now, else None."""
    if sso.current_session() is None:
        return _problem(401, _("Please log in to see this page."), login=login_url(PAGE))
    if not _recent_two_factor_login():
        return _log_in_again()
    return None


@blueprint.route(PAGE + "/passkeys/options", methods=["POST"], endpoint="passkey_options")
def registration_options():
    if (refused := _json_guard()) is not None:
        return refused
    return jsonify({"publicKey": passkeys.registration_options(sso.current_member())})


@blueprint.route(PAGE + "/passkeys", methods=["POST"], endpoint="add_passkey")
def add_passkey():
    if (refused := _json_guard()) is not None:
        return refused
    body = request.get_json(silent=True)
    credential = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(credential, dict):
        return _problem(400, _("Your request could not be read. Please try again."))
    member = sso.current_member()
    name = passkeys.default_name(member.id, _("Passkey %(number)d"))
    try:
        passkey = passkeys.register(member, credential, name)
    except passkeys.PasskeyRefused:
        return _problem(
            400, _("The passkey could not be added. Please try again with Add passkey.")
        )
    flash(
        _(
            "Your passkey “%(name)s” is added. You can use it instead of a code when you log in.",
            name=passkey.name,
        ),
        "info",
    )
    return jsonify({"redirect": url_for(".security")}), 201


def _security_page_with_error(message: str, status: int = 400):
    """The security page again with ``message`` in its role="alert" notice."""
    flash(message, "error")
    response = make_response(current_app.view_functions["account.security"]())
    response.status_code = status
    return response


def _form_guard():
    """The checks of the rename and remove forms: a response when they fail, else None."""
    if sso.current_session() is None:
        return redirect(login_url(PAGE), 303)
    if not ConfirmForm().validate_on_submit():
        return _security_page_with_error(_("Your request could not be read. Please try again."))
    if not _recent_two_factor_login():
        flash(_("For your security, please log in again to continue."), "info")
        return redirect(login_url(PAGE, prompt="login"), 303)
    return None


@blueprint.route(
    PAGE + "/passkeys/<passkey_id>/rename", methods=["POST"], endpoint="rename_passkey"
)
def rename_passkey(passkey_id: str):
    if (refused := _form_guard()) is not None:
        return refused
    name = request.form.get("name", "")
    if not is_text(name):
        return _security_page_with_error(_("This holds characters that cannot be used."))
    member = sso.current_member()
    try:
        passkey = passkeys.rename(member.id, passkey_id, name)
    except InvalidInput:
        return _security_page_with_error(_("A passkey name has 1 to 64 characters."))
    if passkey is None:
        return _security_page_with_error(_("This passkey does not exist."), 404)
    flash(_("The passkey is now called “%(name)s”.", name=passkey.name), "info")
    return redirect(url_for(".security"), 303)


@blueprint.route(
    PAGE + "/passkeys/<passkey_id>/remove", methods=["POST"], endpoint="remove_passkey"
)
def remove_passkey(passkey_id: str):
    if (refused := _form_guard()) is not None:
        return refused
    member = sso.current_member()
    try:
        removed = passkeys.remove(member, passkey_id)
    except passkeys.LastSecondFactor:
        return _security_page_with_error(
            _(
                "This passkey is your only second factor. "
                "Set up an authenticator app or add another passkey before you remove it."
            ),
            409,
        )
    if not removed:
        return _security_page_with_error(_("This passkey does not exist."), 404)
    flash(_("The passkey is removed. It can no longer be used to log in."), "info")
    return redirect(url_for(".security"), 303)
