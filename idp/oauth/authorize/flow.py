"""The authorization endpoint from request to response: checks once, interaction, code.

Each HTTP request validates the authorization request once, through Authlib's
grant (which runs ``checks``): ``authorization_endpoint`` the request at
``/oauth/authorize``, ``stored_request`` the request behind a consent step
(again, because the client may have changed since). Both go on in
``resume``, the one path to a code: the interaction steps in their order,
then the code from the grant already validated. Errors become a redirect with
``state`` and ``iss`` once the redirect URI is verified, a page before.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Response, make_response
from flask_babel import gettext as _

from idp.errors import render_error
from idp.models import ConsentStep, SSOSession
from idp.oauth.authorization_code import Authorization, AuthorizationCodeGrant
from idp.oauth.authorize import interaction
from idp.oauth.authorize.interaction import ConsentAnswer
from idp.oauth.authorize.request import AuthorizationRequest
from idp.oauth.requests import StoredAuthorizationRequest
from idp.oauth.server import AuthorizationServer, current_server, issuer
from idp.services import consent as consents
from idp.services.members import get_member
from idp.services.sso import current_session

__all__ = ["ConsentAnswer", "authorization_endpoint", "resume", "stored_request"]


def authorization_endpoint() -> Response:
    """``/oauth/authorize`` (GET or POST), also when the member comes back from logging in."""
    server = current_server()
    request = server.create_oauth2_request(None)
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return error_response(server, request, error)
    return resume(grant, current_session())


def stored_request(step: ConsentStep) -> AuthorizationCodeGrant | Response:
    """The validated request behind a consent step, or the error response when it
    no longer passes the checks."""
    server = current_server()
    request = StoredAuthorizationRequest(step.parameters, issuer(), interaction.AUTHORIZE_PATH)
    try:
        return server.get_consent_grant(request)
    except OAuth2Error as error:
        return error_response(server, request, error)


def resume(
    grant: AuthorizationCodeGrant, sso: SSOSession | None, answer: ConsentAnswer | None = None
) -> Response:
    """Login, approved client, consent, code, for a request ``grant`` validated.

    With the member's ``answer`` from the consent screen the login step is behind
    them: a consent step is opened only after it passed, and belongs to that session.
    """
    asked: AuthorizationRequest = grant.authorization_request
    try:
        if answer is None:
            response = interaction.require_login(asked, sso)
            if response is not None:
                return response
        interaction.require_approved_client(asked, sso)
        consent = interaction.require_consent(asked, sso, answer)
        if isinstance(consent, Response):
            return consent
    except OAuth2Error as error:
        return error_response(grant.server, grant.request, _bind(error, asked))
    authorization = Authorization(
        member=get_member(sso.member_id),
        session=sso,
        consent=consent,
        scope=consents.granted_scope(consent, asked.scopes),
    )
    return grant.server.create_authorization_response(
        grant.request, grant_user=authorization, grant=grant
    )


def _bind(error: OAuth2Error, asked: AuthorizationRequest) -> OAuth2Error:
    """Errors after the checks go to the verified redirect URI."""
    error.redirect_uri = asked.redirect_uri
    error.state = error.asked_state = asked.state
    return error


def error_response(
    server: AuthorizationServer, request: OAuth2Request, error: OAuth2Error
) -> Response:
    """A redirect to the client once its redirect URI is verified, a page before."""
    if error.redirect_uri:
        return server.authorization_error_redirect(request, error)
    message = getattr(error, "page_message", None) or _(
        "The partner website sent a login request that cannot be processed."
    )
    page = render_error(400, _("This login request cannot be completed"), str(message))
    return make_response(page)
