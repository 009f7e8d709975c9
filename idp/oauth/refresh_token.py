"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14).

Refresh tokens exist only with ``offline_access``. Each use returns a new
refresh token in the same family and marks the old one used in one UPDATE;
presenting a used one again revokes the whole family. A refresh token lives as
long as the member's consent: until its end, or without time limit when the
member chose so. A new ID token comes with each refresh (OIDC Core §12.2).
The tokens are issued by ``idp.services.issuance``.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError

from idp.extensions import db
from idp.models import Member, Token
from idp.models.types import utcnow
from idp.oauth import dpop_token
from idp.oauth.client_auth import AUTH_METHODS
from idp.oauth.id_token import issue_id_token
from idp.services import consent as consents
from idp.services import issuance, tokens
from idp.services.issuance import Authentication


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
        # RFC 9449 §5: a public client's refresh token is bound to its DPoP key; checked
        # before anything is claimed, so a copy without the key spends and revokes nothing.
        bound_to = row.dpop_jkt if client.is_public else None
        dpop_token.check_bound(self.request, bound_to, "refresh token")
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
        issuance.refresh_token_reused(row)
        raise InvalidGrantError("The refresh token was used already; the grant is revoked.")

    def create_token_response(self):
        row: Token = self.request.refresh_token
        # The consent first, then the token: the order every withdrawal, deletion and
        # Stop sharing locks them in, so a refresh racing one of them waits for it
        # instead of deadlocking with it. Held until the commit: a change committed
        # meanwhile applies to this very refresh.
        consent = consents.locked_consent(row.consent_id) if row.consent_id else None
        if not tokens.claim_refresh_token(row):
            self._reused(row)
        member = db.session.get(Member, row.member_id) if row.member_id else None
        if consent is None or member is None:
            raise InvalidGrantError("The refresh token belongs to no member's consent.")
        if member.is_disabled:
            # Disabling revoked the token already; this holds for one refreshed meanwhile.
            raise InvalidGrantError("The member's account is disabled.")
        if not consents.covers_issued_tokens(consent, utcnow()):
            raise InvalidGrantError("The refresh token has expired or was revoked.")
        requested = (self.request.payload.scope or row.scope).split()
        # What the member still allows: a narrower consent applies from the next refresh.
        scope = " ".join(consents.covered_scopes(consent, requested))
        client = self.request.client
        unlimited_public = dpop_token.needs_bound_refresh(client, consent, scope)
        body = issuance.issue(
            issuance.TokenGrant(
                self.request.client,
                self.GRANT_TYPE,
                scope=scope,
                member=member,
                consent=consent,
                family_id=row.family_id,
                authentication=Authentication(row.auth_time, row.amr, row.acr, row.sid),
                claims_request=row.claims,
                dpop_jkt=dpop_token.key_for_tokens(
                    self.request, client, unlimited_public=unlimited_public
                ),
            ),
            sign_id_token=issue_id_token,
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER
