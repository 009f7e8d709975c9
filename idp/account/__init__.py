"""The member area: ``/account`` and its pages (security; later connected apps and more)."""

from flask import Blueprint

blueprint = Blueprint("account", __name__)

from idp.account import (  # noqa: E402, F401  (attach the routes)
    deletion,
    export,
    linked_profiles,
    passkeys,
    profile,
    receipts,
    security,
    views,
)
