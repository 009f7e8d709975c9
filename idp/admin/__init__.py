"""The operator console (``/admin``): approvals, suspensions, partner notifications,
the audit log and the login analytics, for Miles & More staff with a two-factor login."""

from flask import Blueprint

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

from idp.admin import records, views  # noqa: E402, F401  (attaches the routes)
