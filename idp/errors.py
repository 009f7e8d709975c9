"""One renderer per audience for errors, and the handlers for what reaches the app.

- People: ``render_page``, the ``error.html`` page.
- Programs reading JSON problems: ``render_problem``, RFC 9457
  ``application/problem+json``.
- OAuth clients: ``render_oauth_error``, the RFC 6749 §5.2 body. (The token,
  revocation and introspection endpoints answer through Authlib's grants.)
- Resource requests with a bearer token: ``render_bearer_challenge``, RFC 6750
  §3, the ``WWW-Authenticate`` challenge with an OAuth body.

``render_error`` picks the page or the problem for the request at hand; the
handlers below turn HTTP errors and anything unexpected into one of the two,
without leaking details.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from idp.security_headers import no_store

log = logging.getLogger(__name__)


#: Protocol endpoints a member's browser visits: errors there are pages.
BROWSER_ENDPOINTS = ("oauth.authorize", "oidc.end_session")


def _endpoint() -> str | None:
    """The matched endpoint, also when routing failed on the method (405)."""
    if request.endpoint:
        return request.endpoint
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST", "PUT", "DELETE"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        return endpoint
    return None


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


#: Endpoints a page's own script calls (the passkey ceremonies): every answer is JSON.
SCRIPT_ENDPOINTS = frozenset(
    {
        "account.passkey_options",
        "account.add_passkey",
        "login.passkey_options",
        "login.verify_passkey",
    }
)


#: Blueprints and paths for programs: every error there is JSON.
JSON_BLUEPRINTS = ("api", "oauth", "ssf")
JSON_PATH_PREFIXES = ("/api/", "/oauth/", "/ssf/")


def wants_json() -> bool:
    endpoint = _endpoint()
    if endpoint in BROWSER_ENDPOINTS:
        return False
    # The blueprint of the route the path names, also when the method did not match (405).
    blueprint = endpoint.rpartition(".")[0] if endpoint else None
    if endpoint in SCRIPT_ENDPOINTS:
        return True
    if blueprint in JSON_BLUEPRINTS or request.path.startswith(JSON_PATH_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


# -- the renderers, one per audience -----------------------------------------------


def render_page(status: int, title: str, description: str) -> Response:
    """The error page a person reads: ``title`` as heading, ``description`` below."""
    page = render_template("error.html", status=status, title=title, description=description)
    return make_response(page, status)


def render_problem(status: int, title: str, detail: str) -> Response:
    """RFC 9457 §3: a problem with no type of its own (``about:blank``, §4.2.1)."""
    response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def render_oauth_error(status: int, error: str, description: str, **extra: str) -> Response:
    """RFC 6749 §5.2: ``{"error", "error_description", ...}``, never cached (§5.1)."""
    response = jsonify({"error": error, "error_description": description, **extra})
    response.status_code = status
    return no_store(response)


def _quoted(value: str) -> str:
    """An RFC 9110 §5.6.4 quoted-string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_bearer_challenge(
    status: int,
    error: str | None,
    description: str,
    scope: str | None = None,
    *,
    scheme: str = "Bearer",
    algs: str | None = None,
) -> Response:
    """RFC 6750 §3: the ``WWW-Authenticate: Bearer`` challenge and an OAuth body.

    Without ``error`` the challenge is bare (§3.1: a request with no token gets
    no error code); the body then says ``unauthorized``. ``scope`` names the
    scope an ``insufficient_scope`` refusal lacks. ``scheme="DPoP"`` with the
    accepted ``algs`` is the challenge of RFC 9449 §7.1.
    """
    params = [f"realm={_quoted(current_app.config['IDP'].issuer)}"]
    if error:
        params.append(f"error={_quoted(error)}")
        params.append(f"error_description={_quoted(description)}")
    if scope:
        params.append(f"scope={_quoted(scope)}")
    if algs:
        params.append(f"algs={_quoted(algs)}")
    extra = {"scope": scope} if scope else {}
    response = render_oauth_error(status, error or "unauthorized", description, **extra)
    response.headers["WWW-Authenticate"] = f"{scheme} " + ", ".join(params)
    return response


def render_error(status: int, title: str, description: str) -> Response:
    """A page for a browser, a JSON problem for a program (see ``wants_json``)."""
    if wants_json():
        return render_problem(status, title, description)
    return render_page(status, title, description)


# -- what reaches the application --------------------------------------------------


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
