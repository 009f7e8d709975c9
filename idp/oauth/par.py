"""The pushed authorization request endpoint (RFC 9126 §2).

A client authenticates as at the token endpoint (§2: the same methods, public
clients with ``none``) and posts the parameters of an authorization request.
They go through the same checks as at the authorization endpoint
(``authorize.checks``), so a request that would fail there fails here with an
OAuth error in JSON (§2.3) and nothing is stored; a ``request_uri`` cannot be
pushed (§2.1), and a ``client_id`` must name the client that authenticated.
The answer is ``201`` with the ``request_uri`` and its lifetime (§2.2).

A DPoP proof sent with the push (RFC 9449 §10.1) binds the code the request
will bring to the proof's key, as ``dpop_jkt`` does; both together must name
the same key.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidClientError, OAuth2Error
from flask import current_app

from idp.oauth import dpop_token
from idp.oauth.authorize import checks
from idp.oauth.authorize.request import PUSHED
from idp.oauth.client_auth import AUTH_METHODS, ClientAuthenticationFailed
from idp.services import pushed_requests

ENDPOINT_NAME = "pushed_authorization"
#: Form parameters that authenticate the client and are no part of the request.
CLIENT_AUTH_PARAMETERS = ("client_secret", "client_assertion", "client_assertion_type")
HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


class PushedAuthorizationEndpoint:
    """Registered with the server like Authlib's revocation and introspection endpoints."""

    ENDPOINT_NAME = ENDPOINT_NAME
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def __init__(self, server=None):
        self.server = server

    def create_endpoint_request(self, request):
        return self.server.create_oauth2_request(request)

    def __call__(self, request):
        client = self.server.authenticate_client(
            request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME
        )
        request.client = client
        parameters = _request_parameters(request, client)
        _bind_to_proof(request, parameters)
        try:
            checks.validate(parameters, PUSHED)
        except OAuth2Error as error:
            raise _as_json_error(error) from error
        settings = current_app.config["IDP"]
        reference = pushed_requests.push(client, parameters, settings.par_lifetime_seconds)
        body = {"request_uri": reference.request_uri, "expires_in": reference.expires_in}
        return 201, body, HEADERS


def _request_parameters(request, client) -> dict[str, list[str]]:
    """The authorization request in the body (each name once: ``check_back_channel_parameters``)."""
    form = request.form
    named = form.get("client_id")
    if named is not None and named != client.client_id:
        raise ClientAuthenticationFailed("client_id is not the client that authenticated.")
    parameters = {name: form.getlist(name) for name in form if name not in CLIENT_AUTH_PARAMETERS}
    # RFC 9126 §2.1: client_id is part of the request, whichever way the client authenticated.
    parameters["client_id"] = [client.client_id]
    return parameters


def _bind_to_proof(request, parameters: dict[str, list[str]]) -> None:
    """RFC 9449 §10.1: the proof's key as ``dpop_jkt``; a ``dpop_jkt`` of another key is refused."""
    proof = dpop_token.check_request(request)
    if proof is None:
        return
    named = parameters.get("dpop_jkt")
    if named and named != [proof.jkt]:
        raise dpop_token.InvalidDPoPProofError("dpop_jkt names another key than the DPoP proof.")
    parameters["dpop_jkt"] = [proof.jkt]


def _as_json_error(error: OAuth2Error) -> OAuth2Error:
    """§2.3: the error in the response body, never as a redirect; 400 (401 for the client)."""
    error.redirect_uri = None
    error.state = None
    if error.error == InvalidClientError.error:
        return ClientAuthenticationFailed(error.description)
    error.status_code = 400
    return error
