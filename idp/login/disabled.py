"""An account an operator disabled, at whichever login step finds it (``AccountDisabled``).

The services raise it only once the member proved who they are: the right
password (``/login``, the mailed enrolment link), the mailed reset link with the
second factor, or a login under way that would now finish (a code, a passkey,
an enrolment). Every step answers the same: the login page with a
``role="alert"`` message and 403, or a problem document for the passkey script;
the pending login goes, so no later step of this browser gets further.
"""

from __future__ import annotations

from flask import jsonify, request, session
from flask_babel import gettext as _

from idp.login import blueprint
from idp.login.forms import LoginForm
from idp.login.views import NEXT_KEY, PASSKEY_STEPS, _login_page
from idp.services import sso
from idp.services.authentication import AccountDisabled


@blueprint.errorhandler(AccountDisabled)
def account_disabled(_exc):
    sso.clear_pending_login()
    session.pop(NEXT_KEY, None)
    message = disabled_message()
    if request.endpoint in PASSKEY_STEPS:  # JSON for the script (idp.login.passkey)
        response = jsonify(
            {"type": "about:blank", "title": _("Passkey"), "status": 403, "detail": message}
        )
        response.status_code = 403
        response.mimetype = "application/problem+json"
        return response
    return _login_page(LoginForm(formdata=None), alert=message, status=403)


def disabled_message() -> str:
    return _(
        "Your Miles & More account has been disabled. Please contact the Miles & More service team."
    )
