"""``GET /.well-known/ssf-configuration``: the transmitter metadata (OpenID SSF 1.0 §7.2)."""

from __future__ import annotations

from flask import current_app, jsonify

from idp.oauth.ssf_metadata import transmitter_metadata
from idp.ssf import blueprint


@blueprint.get("/.well-known/ssf-configuration")
def ssf_configuration():
    response = jsonify(transmitter_metadata(current_app.config["IDP"].issuer))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
