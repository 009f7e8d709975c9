"""The browser an upstream request belongs to.

A random value in the member's signed session cookie, whose hash the stored
request keeps (``idp.services.linked_profiles``): an answer coming back in
another browser (a link sent to someone else, a login CSRF) finds no request.
"""

from __future__ import annotations

import secrets

from flask import session

SESSION_KEY = "upstream_browser"


def browser_binding() -> str:
    """This browser's binding, made on first use."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    return value


def current_binding() -> str | None:
    """This browser's binding if it has one (an answer never makes one)."""
    value = session.get(SESSION_KEY)
    return value if isinstance(value, str) else None
