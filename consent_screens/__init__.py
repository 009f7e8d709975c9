"""The consent step: per-partner screens, scope and purpose texts, the consent form."""

from flask import Blueprint

blueprint = Blueprint("consent", __name__, template_folder="templates")
