"""The authorization code grant (RFC 6749 §4.1, OIDC Core §3.1) with PKCE (RFC 7636).

At the authorization endpoint the request runs through ``authorize.checks``;
the code is 256 random bits, stored as a hash, valid for 60 seconds and usable
once. At the token endpoint the code is claimed in one UPDATE; a code presented
again revokes every token issued from it (RFC 6749 §4.1.2, RFC 9700 §4.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidGrantError
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuthorizationCode, Consent, Member, SSOSession
from idp.models.types import utcnow
from idp.oauth.authorize import checks
from idp.oauth.claims import ACR_TWO_FACTOR
from idp.oauth.client_auth import AUTH_METHODS
from idp.oauth.id_token import Authentication, issue_id_token
from idp.oauth.requests import parameter_lists
from idp.services import audit, tokens
from idp.services import consent as consents

CODE_LIFETIME = timedelta(seconds=60)


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
        authorization_request = checks.validate(parameter_lists(self.request.payload))
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
        session = authorization.session
        now = utcnow()
        db.session.add(
            AuthorizationCode(
                code_hash=tokens.hash_value(code),
                client_id=asked.client.id,
                member_id=authorization.member.id,
                consent_id=authorization.consent.id,
                redirect_uri=asked.redirect_uri,
                scope=authorization.scope,
                nonce=asked.nonce,
                code_challenge=asked.code_challenge,
                code_challenge_method=asked.code_challenge_method,
                claims=asked.claims,
                sid=session.id,
                auth_time=session.auth_time,
                amr=list(session.amr or []),
                acr=session.acr or ACR_TWO_FACTOR,
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
        db.session.commit()

    # -- token endpoint -------------------------------------------------------------

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        if not code or len(code) > 256:
            return None
        row = db.session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code_hash == tokens.hash_value(code),
                AuthorizationCode.client_id == client.id,
            )
        )
        if row is None:
            return None
        if row.used_at is not None:
            self._replayed(row)
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired.")
        return row

    def _replayed(self, row: AuthorizationCode):
        revoked = tokens.revoke_from_code(row.id)
        audit.record(
            "token.code_replayed",
            member_id=row.member_id,
            client_id=row.client.client_id,
            tokens_revoked=revoked,
        )
        db.session.commit()
        raise InvalidGrantError("The authorization code was used already.")

    def create_token_response(self):
        client = self.request.client
        row: AuthorizationCode = self.request.authorization_code
        if not _claim(row):
            self._replayed(row)
        consent = consents.current_consent(row.member_id, client)
        if consent is None or consent.id != row.consent_id:
            raise InvalidGrantError("The member's consent was withdrawn or has expired.")
        member = db.session.get(Member, row.member_id)
        scopes = row.scope.split()
        offline = "offline_access" in scopes and client.check_grant_type("refresh_token")
        issued = tokens.issue(
            client,
            scope=row.scope,
            member_id=member.id,
            consent=consent,
            code=row,
            with_refresh=offline,
            refresh_expires_at=consent.expires_at,
            sid=row.sid,
            auth_time=row.auth_time,
            amr=row.amr,
            acr=row.acr,
            claims=row.claims,
        )
        token = token_response(issued, row.scope)
        if "openid" in scopes:
            token["id_token"] = issue_id_token(
                client,
                member,
                row.scope,
                Authentication(row.auth_time, row.amr, row.acr, row.sid),
                issued.access_token,
                nonce=row.nonce,
                claims_request=row.claims,
            )
        consents.touch(consent)
        audit.record(
            "token.issued",
            member_id=member.id,
            client_id=client.client_id,
            grant_type=self.GRANT_TYPE,
            scope=row.scope,
            refresh=issued.refresh_token is not None,
        )
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER


def _claim(row: AuthorizationCode) -> bool:
    """Mark the code used in one statement; False when another request used it first."""
    result = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def token_response(issued: tokens.IssuedTokens, scope: str) -> dict:
    """RFC 6749 §5.1."""
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": scope,
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body
