"""A passkey instead of the code at the second step (``/login/verify/passkey``).

``Use a passkey`` on the second-factor pages runs a WebAuthn authentication
(W3C WebAuthn Level 3 §7.2) from ``static/js/passkeys.js``: the browser asks
for the options (a JSON POST naming the pending member's passkeys in
``allowCredentials``), signs the challenge, and sends the assertion back as
JSON. A right assertion finishes the login with ``hwk`` or ``swk`` (RFC 8176;
see ``idp.services.passkeys``); a wrong, replayed or unknown one counts
towards the lockout as a wrong code does and gets a 400 problem document.
"""

from __future__ import annotations

from math import ceil

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from idp.login import blueprint
from idp.login.views import _locked_message, _pending, _take_next, attempts
from idp.models.types import utcnow
from idp.services import authentication, passkeys
from idp.services.authentication import LockedOut, LoginRefused


@blueprint.context_processor
def passkey_login():
    """``passkey_login()`` in the second-factor pages: whether to offer ``Use a passkey``."""

    def offered() -> bool:
        found = _pending()
        return found is not None and passkeys.has_passkey(found[1].id)

    return {"passkey_login": offered}


def _problem(status: int, detail: str, **extra):
    """An RFC 9457 problem document; ``extra`` members tell the script what to do next."""
    body = {"type": "about:blank", "title": _("Passkey"), "status": status, "detail": detail}
    response = jsonify({**body, **extra})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _no_pending_login():
    return _problem(
        400,
        _("Your login took too long or was not started. Please log in again."),
        login=url_for(".login"),
    )


@blueprint.route("/login/verify/passkey/options", methods=["POST"], endpoint="passkey_options")
@attempts
def assertion_options():
    found = _pending()
    if found is None:
        return _no_pending_login()
    _pending_login, member = found
    if not passkeys.has_passkey(member.id):
        return _problem(400, _("You have not added a passkey yet."))
    return jsonify({"publicKey": passkeys.authentication_options(member)})


@blueprint.route("/login/verify/passkey", methods=["POST"], endpoint="verify_passkey")
@attempts
def verify_passkey():
    found = _pending()
    if found is None:
        return _no_pending_login()
    pending, member = found
    body = request.get_json(silent=True)
    credential = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(credential, dict):
        return _problem(400, _("Your request could not be read. Please try again."))
    try:
        method = authentication.check_passkey(member, credential)
    except LockedOut as exc:
        response = _problem(429, _locked_message(exc))
        response.headers["Retry-After"] = str(max(1, ceil((exc.until - utcnow()).total_seconds())))
        return response
    except LoginRefused:
        return _problem(
            400, _("That passkey could not be verified. Please try again or use a code.")
        )
    authentication.finish_login(member, [*pending.amr, method])
    return jsonify({"redirect": _take_next()})
