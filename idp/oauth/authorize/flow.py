"""The authorization endpoint from request to response: checks, interaction, code.

``authorization_endpoint`` answers ``/oauth/authorize``;
``answer_consent_step`` resumes a request from the consent screen. Both run
the request through Authlib's grant (which runs ``checks``) and let it issue
the code; errors become a redirect with ``state`` and ``iss`` once the
redirect URI is verified, a page before.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Response, render_template
from flask_babel import gettext as _

from idp.models import Consent, ConsentStep, SSOSession
from idp.oauth.authorization_code import Authorization
from idp.oauth.authorize import interaction
from idp.oauth.authorize.request import AuthorizationRequest
from idp.oauth.requests import StoredAuthorizationRequest
from idp.oauth.server import AuthorizationServer, current_server, issuer
from idp.services import consent as consents
from idp.services.members import get_member
from idp.services.sso import current_session


def authorization_endpoint() -> Response:
    server = current_server()
    request = server.create_oauth2_request(None)
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return error_response(server, request, error)
    asked: AuthorizationRequest = grant.authorization_request
    sso = current_session()
    try:
        response = interaction.require_login(asked, sso)
        if response is not None:
            return response
        interaction.require_approved_client(asked, sso)
        decision = interaction.require_consent(asked, sso)
        if not isinstance(decision, Consent):
            return decision
    except OAuth2Error as error:
        return error_response(server, request, _bind(error, asked))
    return _respond_with_code(server, grant, sso, decision)


def _bind(error: OAuth2Error, asked: AuthorizationRequest) -> OAuth2Error:
    """Errors after the checks go to the verified redirect URI."""
    error.redirect_uri = asked.redirect_uri
    error.state = asked.state
    return error


def stored_request(step: ConsentStep) -> AuthorizationRequest | Response:
    """The request behind a consent step, checked again (the client may have changed),
    or the error response when it no longer passes."""
    server = current_server()
    request = StoredAuthorizationRequest(step.parameters, issuer(), interaction.AUTHORIZE_PATH)
    try:
        return server.get_consent_grant(request).authorization_request
    except OAuth2Error as error:
        return error_response(server, request, error)


def answer_consent_step(
    step: ConsentStep,
    sso: SSOSession,
    allow: bool,
    allowed_optional=(),
    unlimited: bool = False,
    evidence: consents.Evidence | None = None,
) -> Response:
    """The member's answer on the consent screen: a code, or ``access_denied``."""
    server = current_server()
    request = StoredAuthorizationRequest(step.parameters, issuer(), interaction.AUTHORIZE_PATH)
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return error_response(server, request, error)
    asked: AuthorizationRequest = grant.authorization_request
    try:
        interaction.require_approved_client(asked, sso)
    except OAuth2Error as error:
        return error_response(server, request, _bind(error, asked))
    if not allow:
        consents.record_denial(sso.member_id, asked.client, asked.scopes)
        return server.create_authorization_response(request, grant_user=None, grant=grant)
    consent = consents.record_decision(
        sso.member_id, asked.client, asked.scopes, allowed_optional, unlimited, evidence=evidence
    )
    return _respond_with_code(server, grant, sso, consent)


def _respond_with_code(server: AuthorizationServer, grant, sso: SSOSession, consent: Consent):
    asked: AuthorizationRequest = grant.authorization_request
    authorization = Authorization(
        member=get_member(sso.member_id),
        session=sso,
        consent=consent,
        scope=consents.granted_scope(consent, asked.scopes),
    )
    return server.create_authorization_response(
        grant.request, grant_user=authorization, grant=grant
    )


def error_response(server: AuthorizationServer, request: OAuth2Request, error: OAuth2Error):
    if error.redirect_uri:
        return server.authorization_error_redirect(request, error)
    message = getattr(error, "page_message", None) or _(
        "The partner website sent a login request that cannot be processed."
    )
    return render_template(
        "error.html",
        status=400,
        title=_("This login request cannot be completed"),
        description=str(message),
    ), 400
