"""The authorization code grant (RFC 6749 §4.1, OIDC Core §3.1) with PKCE (RFC 7636).

At the authorization endpoint the request runs through ``authorize.checks``;
the code is 256 random bits, stored as a hash, valid for 60 seconds and usable
once (``idp.services.codes``). At the token endpoint the code is claimed in one
UPDATE; a code presented again revokes every token issued from it (RFC 6749
§4.1.2, RFC 9700 §4.5). The tokens are issued by ``idp.services.issuance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidGrantError, InvalidRequestError

from idp import defaults
from idp.extensions import db
from idp.models import AuthorizationCode, Consent, Member, SSOSession
from idp.models.types import utcnow
from idp.oauth import dpop_token
from idp.oauth.authorize import checks
from idp.oauth.authorize.request import FRONT, STORED
from idp.oauth.claims import ACR_TWO_FACTOR
from idp.oauth.client_auth import AUTH_METHODS
from idp.oauth.id_token import issue_id_token
from idp.oauth.requests import StoredAuthorizationRequest, parameter_lists
from idp.services import codes, issuance, pushed_requests, tokens
from idp.services import consent as consents
from idp.services.issuance import Authentication

CODE_LIFETIME = timedelta(seconds=defaults.AUTHORIZATION_CODE_SECONDS)


@dataclass
class Authorization:
    """The member's "yes" to one request: who, in which session, under which consent."""

    member: Member
    session: SSOSession
    consent: Consent
    scope: str


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    # -- authorization endpoint ------------------------------------------------

    @classmethod
    def check_authorization_endpoint(cls, request) -> bool:
        # The only grant at the authorization endpoint: its checks answer every response_type.
        return True

    @staticmethod
    def validate_no_multiple_request_parameter(request) -> None:
        """Repeated parameters are refused by ``checks`` in their place in the order."""

    def validate_authorization_request(self) -> str:
        channel = STORED if isinstance(self.request, StoredAuthorizationRequest) else FRONT
        authorization_request = checks.validate(parameter_lists(self.request.payload), channel)
        self.authorization_request = authorization_request
        self.request.client = authorization_request.client
        self.request.scope = authorization_request.scope
        return authorization_request.redirect_uri

    def create_authorization_response(self, redirect_uri: str, grant_user: Authorization | None):
        if not grant_user:
            raise AccessDeniedError(redirect_uri=redirect_uri)
        self.request.user = grant_user
        code = tokens.new_value()
        self.save_authorization_code(code, self.request)
        params = [("code", code)]
        if self.authorization_request.state:
            params.append(("state", self.authorization_request.state))
        return 302, "", [("Location", add_params_to_uri(redirect_uri, params))]

    def save_authorization_code(self, code: str, request) -> None:
        authorization: Authorization = request.user
        asked = self.authorization_request
        # RFC 9126 §7.3: one code per pushed request; it commits with the code.
        if asked.pushed_id is not None and not pushed_requests.complete(asked.pushed_id):
            error = InvalidRequestError(
                "The request_uri was used already.", redirect_uri=asked.redirect_uri
            )
            error.asked_state = asked.state
            raise error
        codes.save(
            code,
            client=asked.client,
            redirect_uri=asked.redirect_uri,
            member=authorization.member,
            session=authorization.session,
            consent=authorization.consent,
            scope=authorization.scope,
            acr=authorization.session.acr or ACR_TWO_FACTOR,
            nonce=asked.nonce,
            code_challenge=asked.code_challenge,
            code_challenge_method=asked.code_challenge_method,
            claims=asked.claims,
            dpop_jkt=asked.dpop_jkt,
            lifetime=CODE_LIFETIME,
        )

    # -- token endpoint -------------------------------------------------------------

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        row = codes.find(code, client)
        if row is None:
            return None
        # RFC 9449 §10: before the code counts as presented, so no thief spends it.
        dpop_token.check_bound(self.request, row.dpop_jkt, "authorization code")
        if row.used_at is not None:
            self._replayed(row)
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired.")
        return row

    def _replayed(self, row: AuthorizationCode):
        issuance.code_replayed(row)
        raise InvalidGrantError("The authorization code was used already.")

    def create_token_response(self):
        client = self.request.client
        row: AuthorizationCode = self.request.authorization_code
        if not codes.claim(row):
            self._replayed(row)
        consent = consents.current_consent(row.member_id, client)
        if consent is None or consent.id != row.consent_id:
            raise InvalidGrantError("The member's consent was withdrawn or has expired.")
        member = db.session.get(Member, row.member_id)
        if member is None or member.is_disabled:
            raise InvalidGrantError("The member's account is disabled.")
        # The consent may have been narrowed since the code was issued.
        scope = consents.granted_scope(consent, row.scope.split())
        unlimited_public = dpop_token.needs_bound_refresh(client, consent, scope)
        body = issuance.issue(
            issuance.TokenGrant(
                client,
                self.GRANT_TYPE,
                scope=scope,
                member=member,
                consent=consent,
                code=row,
                authentication=Authentication(row.auth_time, row.amr, row.acr, row.sid),
                nonce=row.nonce,
                claims_request=row.claims,
                dpop_jkt=dpop_token.key_for_tokens(
                    self.request, client, unlimited_public=unlimited_public
                ),
            ),
            sign_id_token=issue_id_token,
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER
