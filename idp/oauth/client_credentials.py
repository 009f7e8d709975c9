"""The client credentials grant (RFC 6749 §4.4) for confidential clients.

Every scope of this provider releases member data, or names a member
(``openid``) or a member's absence (``offline_access``); none makes sense
without a member. So a client credentials token carries no scope at all: it
proves only which client holds it (useful for introspection and for partner
APIs that are not about a member). Asking for any scope is ``invalid_scope``.
No refresh token and no ID token are issued.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from idp.oauth import dpop_token
from idp.oauth.client_auth import CONFIDENTIAL_AUTH_METHODS
from idp.services import issuance


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_token_request(self):
        super().validate_token_request()
        if (self.request.payload.scope or "").strip():
            raise InvalidScopeError("Client credentials tokens carry no scope.")

    def create_token_response(self):
        client = self.request.client
        jkt = dpop_token.key_for_tokens(self.request, client)  # RFC 9449 §5
        body = issuance.issue(issuance.TokenGrant(client, self.GRANT_TYPE, dpop_jkt=jkt))
        return 200, body, self.TOKEN_RESPONSE_HEADER
