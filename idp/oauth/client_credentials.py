"""The client credentials grant (RFC 6749 §4.4) for confidential clients.

Every member scope of this provider releases member data, or names a member
(``openid``) or a member's absence (``offline_access``); none makes sense
without a member, so none is granted here. A client credentials token carries
only the client scopes of ``idp.catalog.CLIENT_SCOPES`` it asked for (e.g.
``ssf.manage`` for the client's Shared Signals stream), or none at all: it
then proves only which client holds it (useful for introspection and for
partner APIs that are not about a member). Asking for any other scope is
``invalid_scope``. No refresh token and no ID token are issued.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from idp.catalog import CLIENT_SCOPES
from idp.oauth.client_auth import CONFIDENTIAL_AUTH_METHODS
from idp.services import issuance


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_token_request(self):
        super().validate_token_request()
        if any(scope not in CLIENT_SCOPES for scope in self._scopes()):
            raise InvalidScopeError("Client credentials tokens carry only client scopes.")

    def _scopes(self) -> list[str]:
        return list(dict.fromkeys((self.request.payload.scope or "").split()))

    def create_token_response(self):
        grant = issuance.TokenGrant(self.request.client, self.GRANT_TYPE, " ".join(self._scopes()))
        body = issuance.issue(grant)
        return 200, body, self.TOKEN_RESPONSE_HEADER
