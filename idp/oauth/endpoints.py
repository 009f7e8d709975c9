"""The protocol endpoints: authorization, token, revocation, introspection, keys, discovery.

Every route here is rate limited per address (``IDP_API_RATE_LIMIT``). The
back-channel POSTs authenticate clients instead of carrying a CSRF token, and
the authorization endpoint accepts POST from partner sites (OIDC Core
§3.1.2.1), so they are exempt from CSRF protection.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from idp import defaults
from idp.extensions import csrf, limiter
from idp.oauth.authorize.flow import authorization_endpoint
from idp.oauth.discovery import provider_metadata
from idp.oauth.server import current_server
from idp.services import signing_keys
from idp.web.limits import api_rate_limit

blueprint = Blueprint("oauth", __name__)

#: Partners and their libraries may cache these documents briefly.
PUBLIC_CACHE = f"public, max-age={defaults.PUBLIC_DOCUMENT_CACHE_SECONDS}"


limiter.limit(api_rate_limit)(blueprint)


@blueprint.route("/oauth/authorize", methods=["GET", "POST"])
@csrf.exempt
def authorize():
    return authorization_endpoint()


@blueprint.route("/oauth/token", methods=["GET", "POST"])
@csrf.exempt
def token():
    """RFC 6749 §3.2; a GET gets an OAuth error too (with no-store, like every answer here)."""
    return current_server().create_token_response()


@blueprint.route("/oauth/revoke", methods=["GET", "POST"])
@csrf.exempt
def revoke():
    return current_server().create_endpoint_response("revocation")


@blueprint.route("/oauth/introspect", methods=["GET", "POST"])
@csrf.exempt
def introspect():
    return current_server().create_endpoint_response("introspection")


@blueprint.route("/oauth/jwks.json")
def jwks():
    response = jsonify(signing_keys.jwks())
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@blueprint.route("/.well-known/openid-configuration")
@blueprint.route("/.well-known/oauth-authorization-server")
def discovery():
    response = jsonify(provider_metadata(current_app.config["IDP"].issuer))
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response
