"""The member area: ``/account`` and its pages (security; later connected apps and more)."""

from flask import Blueprint

blueprint = Blueprint("account", __name__)

from idp.account import linked_profiles, passkeys, views  # noqa: E402, F401  (attach the routes)
