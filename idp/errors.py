"""One place per audience renders errors: pages for people, JSON for machines.

Protocol endpoints render their own OAuth errors (``idp.oauth``); this module
catches what reaches the application: HTTP errors and anything unexpected, which
becomes a 500 page or JSON problem without leaking details.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
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


def wants_json() -> bool:
    if _endpoint() in BROWSER_ENDPOINTS:
        return False
    if request.blueprint in ("api", "oauth") or request.path.startswith(("/api/", "/oauth/")):
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


def register_error_handlers(app: Flask) -> None:
    from flask_babel import gettext as _

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            _("The form has expired"),
            _("Please go back, reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 429:
            return render_error(
                429,
                _("Too many attempts"),
                _("Too many attempts from your network. Please wait a moment and try again."),
            )
        return render_error(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        internal = InternalServerError()
        return render_error(500, internal.name, _("Something went wrong on our side."))
