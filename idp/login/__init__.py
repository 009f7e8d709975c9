from flask import Blueprint

blueprint = Blueprint("login", __name__)
