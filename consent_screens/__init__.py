"""The consent step: per-partner screens, scope and purpose texts, the consent form."""

from flask import Blueprint

blueprint = Blueprint("consent", __name__, template_folder="templates")

from consent_screens import views  # noqa: E402,F401  (routes attach to the blueprint)
