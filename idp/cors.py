"""CORS for the endpoints a browser-based public client calls (Fetch standard, CORS protocol).

Discovery and the key set are public documents: any origin may read them.
Token, pushed authorization requests, userinfo and revocation answer only the origins of registered redirect
URIs (``scheme://host[:port]`` of any client's), never with credentials: a
public client sends its tokens in the body or the Authorization header, and
the SSO cookie must never travel with these requests. Introspection is for
resource servers, not browsers, and gets no CORS at all.

The set of allowed origins is built from every client's redirect URIs and kept
per process with the clients' fingerprint (how many there are, the highest id,
the sum of their versions, which the ORM raises with every change, and the
latest ``updated_at``, so that a state rolled back and written again differently
is not mistaken for the one kept): each
request with an ``Origin`` reads the fingerprint (one aggregate over the small
``clients`` table) and rebuilds the set when it moved, so a client registered,
changed or deleted in any process is seen by every other at once.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from idp.extensions import db
from idp.models import Client

#: Endpoint → the methods a browser may use on it.
PUBLIC_DOCUMENTS = {"oauth.discovery": "GET", "oauth.jwks": "GET"}
PARTNER_ENDPOINTS = {
    "oauth.token": "POST",
    "oauth.par": "POST",
    "oidc.userinfo": "GET, POST",
    "oauth.revoke": "POST",
}
ALLOWED_HEADERS = "Authorization, Content-Type, DPoP"
#: Userinfo explains a refused token in WWW-Authenticate (RFC 6750 §3); DPoP clients read
#: the server nonce they must use next (RFC 9449 §8, §9).
EXPOSED_HEADERS = "WWW-Authenticate, DPoP-Nonce"
PREFLIGHT_MAX_AGE = "600"

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """The serialised origin of an http(s) URL, or None (RFC 6454 §6.1)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


#: Moves whenever a client is registered, changed or deleted.
_FINGERPRINT = select(
    func.count(Client.id),
    func.max(Client.id),
    func.coalesce(func.sum(Client.version), 0),
    func.max(Client.updated_at),
)


class _AllowedOrigins:
    def __init__(self):
        self._lock = threading.Lock()
        self._origins: frozenset[str] = frozenset()
        self._fingerprint: tuple | None = None

    def __contains__(self, origin: str) -> bool:
        try:
            fingerprint = tuple(db.session.execute(_FINGERPRINT).one())
            with self._lock:
                fresh = fingerprint == self._fingerprint
            if not fresh:
                origins = self._load()
                with self._lock:
                    self._origins, self._fingerprint = origins, fingerprint
        except SQLAlchemyError:
            return False  # the database did not answer: allow nothing, keep nothing new
        return origin in self._origins

    @staticmethod
    def _load() -> frozenset[str]:
        lists = db.session.scalars(select(Client.redirect_uris)).all()
        return frozenset(
            origin for uris in lists for uri in (uris or []) if (origin := origin_of(uri))
        )


def _allowed_origins(app: Flask) -> _AllowedOrigins:
    return app.extensions.setdefault("idp_cors_origins", _AllowedOrigins())


def _preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def apply_cors(response: Response) -> Response:
    endpoint = request.endpoint
    if endpoint in PUBLIC_DOCUMENTS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        if _preflight():
            response.headers["Access-Control-Allow-Methods"] = PUBLIC_DOCUMENTS[endpoint]
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
    if endpoint not in PARTNER_ENDPOINTS:
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or origin_of(origin) != origin:
        return response  # no origin, or not one a browser sends ("null", a path, ...)
    if origin not in _allowed_origins(current_app):
        return response  # the browser keeps the answer from the page
    response.headers["Access-Control-Allow-Origin"] = origin
    if _preflight():
        response.headers["Access-Control-Allow-Methods"] = PARTNER_ENDPOINTS[endpoint]
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    else:
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def init_cors(app: Flask) -> None:
    app.after_request(apply_cors)
