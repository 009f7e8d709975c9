"""Client registration: the partner developer portal, RFC 7591/7592, approval."""

from flask import Blueprint

blueprint = Blueprint("developers", __name__, template_folder="templates")
