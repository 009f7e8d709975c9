"""One place per audience renders errors: pages for people, JSON for machines.

Protocol endpoints render their own OAuth errors (``idp.oauth``); this module
catches what reaches the application: HTTP errors and anything unexpected, which
becomes a 500 page or JSON problem without leaking details.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


#: Protocol endpoints a member's browser visits: errors there are pages.
BROWSER_ENDPOINTS = ("oauth.authorize", "oidc.end_session")


def _endpoint() -> str | None:
    """The matched endpoint, also when routing failed on the method (405)."""
    if request.endpoint:
        return request.endpoint
    try:
        endpoint, _ = current_app.url_map.bind_to_environ(request.environ).match(method="GET")
    except HTTPException:
        return None
    return endpoint


#: What a person reads for the HTTP errors a page can end in; machines get Werkzeug's names.
PAGE_TEXTS = {
    400: (
        _l("Bad request"),
        _l("The page could not understand what was sent. Please go back and try again."),
    ),
    401: (_l("Login needed"), _l("Please log in to see this page.")),
    403: (_l("Access denied"), _l("You are not allowed to open this page.")),
    404: (_l("Page not found"), _l("The page you were looking for does not exist or has moved.")),
    405: (_l("Not possible here"), _l("This page cannot be used in this way.")),
    413: (_l("Too much data"), _l("What was sent is too large. Please send less and try again.")),
}


def wants_json() -> bool:
    endpoint = _endpoint()
    if endpoint in BROWSER_ENDPOINTS:
        return False
    # The blueprint of the route the path names, also when the method did not match (405).
    blueprint = endpoint.rpartition(".")[0] if endpoint else None
    if blueprint in ("api", "oauth") or request.path.startswith(("/api/", "/oauth/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render_error(status: int, title: str, description: str):
    if wants_json():
        body = {"type": "about:blank", "title": title, "status": status, "detail": description}
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    return render_template(
        "error.html", status=status, title=title, description=description
    ), status


def http_error(exc: HTTPException):
    """An HTTP error as a page or JSON (also for blueprints that handle some themselves)."""
    from flask_babel import gettext as _

    if exc.code == 429:
        return render_error(
            429,
            _("Too many attempts"),
            _("Too many attempts from your network. Please wait a moment and try again."),
        )
    status = exc.code or 500
    if not wants_json() and status in PAGE_TEXTS:
        title, description = PAGE_TEXTS[status]
        return render_error(status, str(title), str(description))
    return render_error(status, exc.name, exc.description or "")


def register_error_handlers(app: Flask) -> None:
    from flask_babel import gettext as _

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            _("The form has expired"),
            _("Please go back, reload the page and try again."),
        )

    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        internal = InternalServerError()
        title = internal.name if wants_json() else _("Something went wrong")
        return render_error(500, title, _("Something went wrong on our side."))
