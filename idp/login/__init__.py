"""Two-factor member login pages and the SSO session (``/login``, ``/logout``)."""

from flask import Blueprint

blueprint = Blueprint("login", __name__)

from idp.login import views  # noqa: E402, F401  (attaches the routes)
from idp.login import upstream  # noqa: E402, F401  (logging in with an airline's profile)
