"""CORS for the endpoints a browser-based public client calls (Fetch standard, CORS protocol).

Discovery and the key set are public documents: any origin may read them.
Token, userinfo and revocation answer only the origins of registered redirect
URIs (``scheme://host[:port]`` of any client's), never with credentials: a
public client sends its tokens in the body or the Authorization header, and
the SSO cookie must never travel with these requests. Introspection is for
resource servers, not browsers, and gets no CORS at all.

The set of allowed origins is built from every client's redirect URIs and kept
for ``ORIGIN_CACHE_SECONDS``; a change to a client in this process rebuilds it
at once, other processes see it when their copy expires.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError

from idp.extensions import db
from idp.models import Client

#: Endpoint → the methods a browser may use on it.
PUBLIC_DOCUMENTS = {"oauth.discovery": "GET", "oauth.jwks": "GET"}
PARTNER_ENDPOINTS = {"oauth.token": "POST", "oidc.userinfo": "GET, POST", "oauth.revoke": "POST"}
ALLOWED_HEADERS = "Authorization, Content-Type, DPoP"
#: Userinfo explains a refused token in WWW-Authenticate (RFC 6750 §3).
EXPOSED_HEADERS = "WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"
ORIGIN_CACHE_SECONDS = 60.0

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


class _AllowedOrigins:
    def __init__(self):
        self._lock = threading.Lock()
        self._origins: frozenset[str] = frozenset()
        self._expires = 0.0
        self._generation = -1

    def __contains__(self, origin: str) -> bool:
        now = time.monotonic()
        with self._lock:
            fresh = now < self._expires and self._generation == _changes.count
        if not fresh:
            generation = _changes.count
            origins = self._load()
            if origins is None:
                return False  # the database did not answer: allow nothing, cache nothing
            with self._lock:
                self._origins, self._expires = origins, now + ORIGIN_CACHE_SECONDS
                self._generation = generation
        return origin in self._origins

    @staticmethod
    def _load() -> frozenset[str] | None:
        try:
            lists = db.session.scalars(select(Client.redirect_uris)).all()
        except SQLAlchemyError:
            return None
        return frozenset(
            origin for uris in lists for uri in (uris or []) if (origin := origin_of(uri))
        )


class _Changes:
    """Counts changes to clients in this process, so cached origin sets notice them."""

    count = 0


_changes = _Changes()


@event.listens_for(Client, "after_insert")
@event.listens_for(Client, "after_update")
@event.listens_for(Client, "after_delete")
def _client_changed(_mapper, _connection, _target) -> None:
    _changes.count += 1


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
