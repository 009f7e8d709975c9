"""Client registration: the partner developer portal (``/developers``).

RFC 7591/7592 live in ``idp.oauth.registration`` and the approval in
``idp.admin``; all three register clients through ``idp.services.registration``.
"""

from flask import Blueprint

blueprint = Blueprint("developers", __name__, url_prefix="/developers", template_folder="templates")

from clients import client_pages, preview, views  # noqa: E402, F401  (attach the routes)
