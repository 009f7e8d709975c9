"""Registers every grant and endpoint of the authorization server, in one place.

Grants: authorization code (with S256 PKCE), refresh token, client
credentials. Endpoints: revocation (RFC 7009), introspection (RFC 7662),
pushed authorization requests (RFC 9126).
Client authentication: client_secret_basic, client_secret_post,
private_key_jwt, none. Every authorization response carries ``iss`` (RFC 9207).
A token request's DPoP proof (RFC 9449 §5) is checked before any grant runs
(``idp.oauth.dpop_token``).
Each application gets its own server object, found with ``current_server()``;
it also holds the URL builders of the login and consent pages, which the
application passes in (``init_oauth``), so the protocol code names no page.
"""

from __future__ import annotations

from collections.abc import Callable

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, current_app
from flask import request as flask_request

from idp.oauth import dpop_nonce, dpop_token
from idp.oauth.authorization_code import AuthorizationCodeGrant
from idp.oauth.client_auth import ClientAuthentication, PrivateKeyJWT, query_client
from idp.oauth.client_credentials import ClientCredentialsGrant
from idp.oauth.introspection import IntrospectionEndpoint
from idp.oauth.par import PushedAuthorizationEndpoint
from idp.oauth.pkce import S256CodeChallenge
from idp.oauth.refresh_token import RefreshTokenGrant
from idp.oauth.requests import LiveRequest
from idp.oauth.revocation import RevocationEndpoint
from idp.request_text import first_unusable_name, is_text

EXTENSION_KEY = "idp.oauth"

#: ``login_url(next_path, **hints)``: the login page, returning to ``next_path`` afterwards.
LoginURL = Callable[..., str]
#: ``consent_url(step_id, **hints)``: the consent screen of one consent step.
ConsentURL = Callable[..., str]


def issuer() -> str:
    return current_app.config["IDP"].issuer


class Issuer(IssuerParameter):
    """RFC 9207 §2: ``iss`` in every authorization response, success or error."""

    def get_issuer(self) -> str:
        return issuer()


class AuthorizationServer(FlaskAuthorizationServer):
    def __init__(self, login_url: LoginURL, consent_url: ConsentURL):
        super().__init__()
        self._client_auth = ClientAuthentication(query_client)
        self._client_auth.register(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
        self.issuer_parameter = Issuer()
        self.login_url = login_url
        self.consent_url = consent_url

    def query_client(self, client_id):
        return query_client(client_id)

    def save_token(self, token, request):  # pragma: no cover - grants store their own tokens
        raise NotImplementedError("grants issue tokens through idp.services.tokens")

    def create_oauth2_request(self, request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return LiveRequest(flask_request, issuer())

    def get_consent_grant(self, request=None, end_user=None):
        """Authlib's, but an error keeps the ``state`` of the request the checks read.

        Authlib sets the query's ``state`` on every error; a pushed request's
        ``state`` is in its pushed parameters (RFC 9126 §4), not in the query.
        """
        try:
            return super().get_consent_grant(request, end_user)
        except OAuth2Error as error:
            if hasattr(error, "asked_state"):
                error.state = error.asked_state
            raise

    def create_token_response(self, request=None):
        """RFC 6749 §3.2, with the DPoP proof (RFC 9449 §5) checked before any grant runs."""
        request = self.create_oauth2_request(request)
        try:
            check_back_channel_parameters(request)
            if not request.form.get("grant_type"):
                raise InvalidRequestError("Missing 'grant_type'.")
            proof = dpop_token.check_request(request)
        except OAuth2Error as error:
            return self.handle_error_response(request, error)
        response = super().create_token_response(request)
        if proof is not None or dpop_nonce.required():
            response.headers[dpop_nonce.HEADER] = dpop_nonce.current_nonce()
        return response

    def create_endpoint_response(self, name, request=None):
        request = self.create_oauth2_request(request)
        try:
            check_back_channel_parameters(request)
        except OAuth2Error as error:
            return self.handle_error_response(request, error)
        return super().create_endpoint_response(name, request)

    @hooked
    def create_authorization_response(self, request=None, grant_user=None, grant=None):
        """RFC 6749 §4.1.2: the code (or ``access_denied``) for a request already validated.

        Authlib's own version validates the request again. The checks look up the
        client and verify ``id_token_hint``, so each HTTP request runs them once, in
        ``get_consent_grant``, and the grant it returned is answered here. The RFC 9207
        hook adds ``iss`` to whatever this returns.
        """
        if grant is None or grant.redirect_uri is None:
            raise ValueError("Validate the request with get_consent_grant first.")
        try:
            args = grant.create_authorization_response(grant.redirect_uri, grant_user)
            response = self.handle_response(*args)
        except OAuth2Error as error:
            response = self.handle_error_response(grant.request, _echo_state(grant.request, error))
        grant.execute_hook("after_authorization_response", response)
        return response

    def authorization_error_redirect(self, request, error: OAuth2Error):
        """An error bound to a verified redirect URI, with ``state`` and ``iss``."""
        response = self.handle_error_response(request, _echo_state(request, error))
        self.issuer_parameter.add_issuer_parameter(self, response)
        return response


def _echo_state(request, error: OAuth2Error) -> OAuth2Error:
    """The request's ``state`` on its error (RFC 6749 §4.1.2.1).

    A ``state`` that is not text (a NUL, bytes that were not UTF-8) is not what the
    client sent, so it is left out rather than echoed in a changed form. An error
    bound to a validated request carries that request's ``state`` as ``asked_state``
    (None when it had none): a pushed request's is not the query's (RFC 9126 §4).
    """
    if hasattr(error, "asked_state"):
        state = error.asked_state
    else:
        state = error.state or request.payload.state
    error.state = state if is_text(state) else None
    return error


def check_back_channel_parameters(request) -> None:
    """RFC 6749 §3.2: parameters in the body, none of them repeated; all of them text.

    Authlib reads some parameters from the query too, so both are checked for
    values that are not UTF-8 or hold a NUL, before anything is looked up.
    """
    if request.method != "POST":
        raise InvalidRequestError("Use POST.")
    for name in request.form:
        if len(request.form.getlist(name)) > 1:
            raise InvalidRequestError("A parameter is repeated.")
    if any(first_unusable_name(values) is not None for values in (request.args, request.form)):
        raise InvalidRequestError("A parameter is not valid UTF-8 text or holds a NUL character.")


def build_server(login_url: LoginURL, consent_url: ConsentURL) -> AuthorizationServer:
    server = AuthorizationServer(login_url, consent_url)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge()])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(PushedAuthorizationEndpoint)
    server.register_extension(server.issuer_parameter)
    return server


def init_oauth(app: Flask, *, login_url: LoginURL, consent_url: ConsentURL) -> None:
    """Bind the server to ``app``; the URL builders say where members log in and consent.

    Like node-oidc-provider's ``interactionUrl``: the application owns those pages, the
    authorization endpoint only sends the member there (and takes them back afterwards).
    """
    server = build_server(login_url, consent_url)
    server.init_app(app)
    app.extensions[EXTENSION_KEY] = server


def current_server() -> AuthorizationServer:
    return current_app.extensions[EXTENSION_KEY]
