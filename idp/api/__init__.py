from flask import Blueprint

blueprint = Blueprint("api", __name__)

from idp.api import miles, openapi  # noqa: E402,F401  (registers the routes)
