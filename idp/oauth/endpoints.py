from flask import Blueprint

blueprint = Blueprint("oauth", __name__)
