"""Pushed authorization requests at the authorization endpoint (RFC 9126 §4-§6).

``check_pushed_request`` replaces a ``request_uri`` the pushed authorization
request endpoint issued by the parameters the client pushed; every other
check then runs on those, as on any request (§4). Parameters sent next to
``client_id`` and ``request_uri`` are ignored: only what the authenticated
client pushed counts. The reference is bound to its client and, from its first
use on, to the browser that used it (a random holder value in the Flask
session), so that this browser can come back with it after logging in while
anyone else who got hold of it is refused (``idp.services.pushed_requests``).

``check_pushed_required`` refuses a plain request when the provider (§5,
``IDP_REQUIRE_PAR``) or the client (§6) requires pushed requests.
"""

from __future__ import annotations

import secrets

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import current_app, session
from flask_babel import lazy_gettext as _l

from idp.oauth.authorize.request import FRONT, AuthorizationRequest, PageError
from idp.request_text import is_text
from idp.services import pushed_requests
from idp.services.pushed_requests import PushedRequestRefused

#: Flask session key of this browser's holder value.
HOLDER_KEY = "par_holder"
HOLDER_BYTES = 32
#: RFC 9126 §4 names this error; Authlib has no class for it.
INVALID_REQUEST_URI = "invalid_request_uri"
REQUIRED_DESCRIPTION = "pushed authorization request required"

_REFUSALS = {
    PushedRequestRefused.UNKNOWN: "The request_uri is not known for this client.",
    PushedRequestRefused.EXPIRED: "The request_uri has expired.",
    PushedRequestRefused.USED: "The request_uri was used already.",
}


def browser_holder() -> str:
    """This browser's holder value, created on its first pushed request."""
    holder = session.get(HOLDER_KEY)
    if not isinstance(holder, str) or len(holder) < HOLDER_BYTES:
        holder = secrets.token_urlsafe(HOLDER_BYTES)
        session[HOLDER_KEY] = holder
    return holder


def check_pushed_request(request: AuthorizationRequest) -> None:
    """RFC 9126 §4: a ``request_uri`` of ours stands for the parameters its client pushed.

    Any other ``request_uri`` is left to ``check_request_objects``
    (``request_uri_not_supported``). The redirect URI is in the pushed parameters,
    so a reference that cannot be used is answered on a page.
    """
    if request.channel != FRONT or "request_uri" not in request.parameters:
        return
    values = request.parameters["request_uri"]
    if len(values) != 1 or not is_text(values[0]):
        raise PageError(
            "Send exactly one 'request_uri'.",
            _l("The partner website sent a login request that cannot be processed."),
        )
    if not pushed_requests.is_pushed_reference(values[0]):
        return
    try:
        pushed = pushed_requests.redeem(values[0], request.client, browser_holder())
    except PushedRequestRefused as refusal:
        raise PageError(
            _REFUSALS[refusal.reason],
            _l("This login request has expired or was used already."),
            error=INVALID_REQUEST_URI,
        ) from refusal
    request.parameters = pushed.parameters
    request.request_uri = values[0]
    request.pushed_id = pushed.id


def check_pushed_required(request: AuthorizationRequest) -> None:
    """RFC 9126 §5 and §6: only pushed requests, when the provider or the client says so."""
    if request.channel != FRONT or request.pushed_id is not None:
        return
    required_by_provider = current_app.config["IDP"].require_par
    if required_by_provider or request.client.require_pushed_authorization_requests:
        raise InvalidRequestError(REQUIRED_DESCRIPTION)
