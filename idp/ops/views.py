"""``/healthz``: the process is up. Never touches the database, never rate limited."""

from __future__ import annotations

from flask import Blueprint, jsonify

from idp.extensions import limiter

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
@limiter.exempt
def healthz():
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
