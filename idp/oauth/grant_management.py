"""The grant management API (Grant Management for OAuth 2.0, draft 03, §6).

``GET /oauth/grants/{grant_id}`` answers the grant's status (§6.4),
``DELETE`` releases it (§6.5: 204, no body). The caller is the confidential
client holding the grant, with a bearer access token (RFC 6750) carrying
``grant_management_query`` or ``grant_management_revoke`` (§6.1).

How the client gets that token: the draft leaves the grant type open. Here it
is a client credentials token (``idp.oauth.client_credentials``): the scopes
are about the client's own grants, not about a member, so they are never asked
at the authorization endpoint, never shown on a consent screen and never in a
member's token. A client registers for them (``scope`` at registration, or the
developer portal's grant management box) only when it is confidential and may
use client credentials (§5.1: grant management is for confidential clients).

Errors (§6.6), each JSON: no token 401 ``invalid_token``; a token without the
scope 403 ``insufficient_scope``; a grant the client does not hold (unknown,
malformed, withdrawn, expired, another client's) 404 ``invalid_grant_id``.
Releasing a grant is the member's withdrawal at that client, recorded with
actor ``partner``: evidence, every token of the member there revoked,
back-channel logout and Security Event Token as for any withdrawal; the grant
is then unknown (404).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from werkzeug.routing import PathConverter

from idp.catalog import GRANT_MANAGEMENT_QUERY, GRANT_MANAGEMENT_REVOKE
from idp.errors import render_oauth_error
from idp.extensions import csrf, limiter
from idp.oauth.resource import current_token, require_bearer
from idp.security_headers import no_store
from idp.services import grant_management
from idp.web.limits import api_rate_limit

blueprint = Blueprint("grants", __name__)
#: Relative to the issuer: ``grant_management_endpoint`` in discovery (§7.1).
ENDPOINT_PATH = "/oauth/grants"


class AnyGrantId(PathConverter):
    """Whatever follows the endpoint's path, line breaks included (the ``path`` converter
    stops at one), so every malformed ``grant_id`` gets this API's 404 ``invalid_grant_id``
    rather than the generic not-found problem."""

    regex = r"[\s\S]+"
    part_isolating = False


@blueprint.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["any_grant_id"] = AnyGrantId


def _unknown() -> Response:
    return render_oauth_error(
        404, "invalid_grant_id", "This client holds no grant with this grant_id."
    )


def _held_grant(grant_id: str):
    token = current_token()
    try:
        return grant_management.grant_of_client(grant_id, token.client)
    except grant_management.UnknownGrant:
        return None


@blueprint.get(ENDPOINT_PATH + "/<any_grant_id:grant_id>")
@limiter.limit(api_rate_limit)
@require_bearer(GRANT_MANAGEMENT_QUERY, member=False, no_credentials_error="invalid_token")
def query_grant(grant_id: str):
    """§6.4: the grant as it stands now."""
    consent = _held_grant(grant_id)
    if consent is None:
        return _unknown()
    return no_store(jsonify(grant_management.describe(consent)))


@blueprint.delete(ENDPOINT_PATH + "/<any_grant_id:grant_id>")
@limiter.limit(api_rate_limit)
@require_bearer(GRANT_MANAGEMENT_REVOKE, member=False, no_credentials_error="invalid_token")
def revoke_grant(grant_id: str):
    """§6.5: the grant, its tokens and the member's consent at this client end now."""
    consent = _held_grant(grant_id)
    if consent is None:
        return _unknown()
    grant_management.revoke(consent)
    return no_store(Response(status=204))


csrf.exempt(revoke_grant)
