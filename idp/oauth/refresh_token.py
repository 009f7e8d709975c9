"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14).

Refresh tokens exist only with ``offline_access``. Each use returns a new
refresh token in the same family and marks the old one used in one UPDATE;
presenting a used one again revokes the whole family. A refresh token lives as
long as the member's consent: until its end, or without time limit when the
member chose so. A new ID token comes with each refresh (OIDC Core §12.2).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError

from idp.extensions import db
from idp.models import Consent, Member, Token
from idp.oauth.authorization_code import token_response
from idp.oauth.client_auth import AUTH_METHODS
from idp.oauth.id_token import Authentication, issue_id_token
from idp.services import audit, tokens
from idp.services import consent as consents


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client) -> Token:
        value = self.request.form.get("refresh_token")
        if not value:
            raise InvalidRequestError("Missing 'refresh_token'.")
        row = tokens.find_by_refresh_token(value) if len(value) <= 256 else None
        if row is None or row.client_id != client.id:
            raise InvalidGrantError("The refresh token is not valid.")
        if row.refresh_used_at is not None:
            self._reused(row)
        if not tokens.refresh_token_active(row):
            raise InvalidGrantError("The refresh token has expired or was revoked.")
        return row

    def _validate_token_scope(self, row: Token) -> None:
        """RFC 6749 §6: a narrower scope may be asked, never a wider one."""
        scope = self.request.payload.scope
        if scope is None:
            return
        if not scope.split() or not set(scope.split()) <= set(row.scope.split()):
            raise InvalidScopeError("The scope exceeds the one originally granted.")

    def _reused(self, row: Token):
        revoked = tokens.revoke_family(row.family_id)
        audit.record(
            "token.refresh_reused",
            member_id=row.member_id,
            client_id=row.client.client_id,
            tokens_revoked=revoked,
        )
        db.session.commit()
        raise InvalidGrantError("The refresh token was used already; the grant is revoked.")

    def create_token_response(self):
        client = self.request.client
        row: Token = self.request.refresh_token
        if not tokens.claim_refresh_token(row):
            self._reused(row)
        consent = db.session.get(Consent, row.consent_id) if row.consent_id else None
        member = db.session.get(Member, row.member_id) if row.member_id else None
        if consent is None or member is None:
            raise InvalidGrantError("The refresh token belongs to no member's consent.")
        requested = (self.request.payload.scope or row.scope).split()
        # What the member still allows: a narrower consent applies from the next refresh.
        scope = " ".join(consents.covered_scopes(consent, requested))
        issued = tokens.issue(
            client,
            scope=scope,
            member_id=member.id,
            consent=consent,
            family_id=row.family_id,
            with_refresh="offline_access" in scope.split(),
            refresh_expires_at=consent.expires_at,
            sid=row.sid,
            auth_time=row.auth_time,
            amr=row.amr,
            acr=row.acr,
            claims=row.claims,
        )
        token = token_response(issued, scope)
        if "openid" in scope.split():
            token["id_token"] = issue_id_token(
                client,
                member,
                scope,
                Authentication(row.auth_time, row.amr, row.acr, row.sid),
                issued.access_token,
                claims_request=row.claims,
            )
        consents.touch(consent)
        audit.record(
            "token.refreshed",
            member_id=member.id,
            client_id=client.client_id,
            scope=scope,
        )
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER
