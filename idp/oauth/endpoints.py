"""The protocol endpoints: authorization, pushed requests, token, revocation, introspection,
keys, discovery.

Every route here is rate limited per address (``IDP_API_RATE_LIMIT``). The
back-channel POSTs authenticate clients instead of carrying a CSRF token, and
the authorization endpoint accepts POST from partner sites (OIDC Core
§3.1.2.1), so they are exempt from CSRF protection.
"""

from __future__ import annotations

from flask import Blueprint

from idp.extensions import csrf, limiter
from idp.oauth.authorize.flow import authorization_endpoint
from idp.oauth.public_documents import discovery_document, jwks_document
from idp.oauth.server import current_server
from idp.web.limits import api_rate_limit

blueprint = Blueprint("oauth", __name__)

limiter.limit(api_rate_limit)(blueprint)


@blueprint.route("/oauth/authorize", methods=["GET", "POST"])
@csrf.exempt
def authorize():
    return authorization_endpoint()


@blueprint.route("/oauth/par", methods=["GET", "POST"])
@csrf.exempt
def par():
    """RFC 9126 §2; a GET gets an OAuth error (``check_back_channel_parameters``)."""
    return current_server().create_endpoint_response("pushed_authorization")


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
    """RFC 7517 §5, from memory until a key is rotated (``idp.oauth.public_documents``)."""
    return jwks_document().response()


@blueprint.route("/.well-known/openid-configuration")
@blueprint.route("/.well-known/oauth-authorization-server")
def discovery():
    """OIDC Discovery 1.0 §4 and RFC 8414 §3, serialised once."""
    return discovery_document().response()
