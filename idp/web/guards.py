"""Guards the member pages use: where to send a member to log in, and where back afterwards.

``/login?next=PATH`` follows only a relative path on this provider, so a link
to the login page can never send a member elsewhere (no open redirect).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode, urlsplit

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _

from idp.models.types import utcnow
from idp.services import sso

DEFAULT_NEXT = "/account"
MAX_NEXT_LENGTH = 4096
#: Browsers drop tabs and newlines from URLs and read ``\\`` as ``/``: ``/\t/host`` and
#: ``/\\host`` would leave the provider, so any of these refuses the path.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(value: str | None, max_length: int = MAX_NEXT_LENGTH) -> str | None:
    """``value`` when it is a path on this provider, else None."""
    if not value or len(value) > max_length or _UNSAFE.search(value):
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def login_url(next_path: str | None = None, **params: str) -> str:
    """``/login?next=...``; ``prompt="login"`` asks for a fresh login even with a session."""
    query = {"next": safe_next(next_path) or DEFAULT_NEXT, **params}
    return "/login?" + urlencode(query)


def this_page() -> str:
    """The current GET request as a ``next`` path (query included)."""
    if request.method != "GET":
        return DEFAULT_NEXT
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + query if query else "")


def login_required(view):
    """Members only: anyone else goes to the login page and comes back here after."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if sso.current_session() is None:
            return redirect(login_url(this_page()))
        return view(*args, **kwargs)

    return guarded


def recent_login_required(view):
    """Security settings want a login from the last ``recent_login_seconds``."""

    @wraps(view)
    def guarded(*args, **kwargs):
        session = sso.current_session()
        if session is None:
            return redirect(login_url(this_page()))
        recent = timedelta(seconds=current_app.config["IDP"].recent_login_seconds)
        if utcnow() - session.auth_time > recent:
            flash(_("For your security, please log in again to continue."), "info")
            return redirect(login_url(this_page(), prompt="login"))
        return view(*args, **kwargs)

    return guarded
