"""The member area: ``/account`` and its pages (security; later connected apps and more)."""

from flask import Blueprint

blueprint = Blueprint("account", __name__)

from idp.account import views  # noqa: E402, F401  (attaches the routes)
from idp.account import linked_profiles  # noqa: E402, F401  (the Linked profiles page)
