"""The page a member sees when an exchange with an airline did not work out.

One template for every case (``linking/problem.html``): a heading saying what
failed, the reason in plain words in the member's language, that nothing was
changed, and the way on. Never a 500, and nothing stored before it.
"""

from __future__ import annotations

from flask import make_response, render_template, url_for
from flask_babel import gettext as _

#: HTTP status per kind of failure: the airline's fault is a gateway error.
STATUS = {"unreachable": 502, "upstream_error": 502, "invalid_response": 502, "timeout": 504}
UNVERIFIED = ("wrong_issuer", "bad_signature", "invalid_id_token", "wrong_nonce")


def _reason(kind: str, airline: str) -> str:
    if kind == "access_denied":
        return _("The request was cancelled at %(airline)s or not allowed there.", airline=airline)
    if kind == "upstream_error":
        return _("%(airline)s answered with an error.", airline=airline)
    if kind == "unreachable":
        return _("The ID service of %(airline)s cannot be reached at the moment.", airline=airline)
    if kind == "timeout":
        return _("The ID service of %(airline)s did not answer in time.", airline=airline)
    if kind in UNVERIFIED or kind == "invalid_response":
        return _(
            "The answer from %(airline)s could not be verified, so it was not accepted.",
            airline=airline,
        )
    return _(
        "This answer does not belong to a request started in this browser and session, "
        "or it was used or has expired already."
    )


def problem(kind: str, airline: str, purpose: str):
    """The page for a failed ``purpose`` (``link`` or ``login``) with ``airline``."""
    if purpose == "link":
        title = _("Linking with %(airline)s did not work", airline=airline)
        back = (url_for("account.linked_profiles"), _("Back to Linked profiles"))
    else:
        title = _("Logging in with %(airline)s did not work", airline=airline)
        back = (url_for("login.login"), _("Back to the login page"))
    return _render(title, [_reason(kind, airline), _("Nothing was changed.")], back, kind)


def not_linked(airline: str):
    """A profile that authenticated at the airline but is linked to no member."""
    title = _("This %(airline)s profile is not linked", airline=airline)
    lines = [
        _(
            "Your %(airline)s profile is not linked to a Miles & More account. "
            "No account was created, and none was chosen for you.",
            airline=airline,
        ),
        _(
            "To use it, log in with your email address or card number and your password, "
            "then link the profile under Linked profiles in your account."
        ),
    ]
    return _render(title, lines, (url_for("login.login"), _("Back to the login page")), None, 200)


def unknown_airline():
    title = _("This airline is not available")
    lines = [_("Miles & More does not link profiles of this airline.")]
    return _render(title, lines, (url_for("login.login"), _("Back to the login page")), None, 404)


def _render(title, lines, back, kind, status=None):
    status = status or STATUS.get(kind or "", 400)
    html = render_template(
        "linking/problem.html", title=title, lines=lines, back=back, alert=kind is not None
    )
    return make_response(html, status)
