"""Two-factor member login pages and the SSO session (``/login``, ``/logout``)."""

from flask import Blueprint

blueprint = Blueprint("login", __name__)

from idp.login import (  # noqa: E402, F401  (attach the routes)
    disabled,
    language,
    logout,
    passkey,
    recovery,
    upstream,
    views,
)
