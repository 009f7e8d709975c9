"""The client credentials grant (RFC 6749 §4.4) for confidential clients.

Every member scope of this provider releases member data, or names a member
(``openid``) or a member's absence (``offline_access``); none makes sense
without a member, so a client credentials token never carries one: it proves
which client holds it (introspection, partner APIs that are not about a
member).

The exceptions are the client scopes of ``idp.catalog.CLIENT_SCOPES``: they
are about the client's own registration, not a member's data, so they are asked
for here and never at the authorization endpoint (no consent screen shows them
and no member token carries them):

- ``ssf.manage`` and ``ssf.read``: the client's Shared Signals stream;
- ``grant_management_query`` and ``grant_management_revoke`` (Grant Management
  for OAuth 2.0 §6.1, which leaves the grant type to the server): only for a
  confidential client registered for them
  (``idp.catalog.REGISTERED_CLIENT_SCOPES``), since they end members' grants.

Any other scope, or one of those the client did not register, is
``invalid_scope``. No refresh token and no ID token are issued.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from idp.catalog import CLIENT_SCOPES, REGISTERED_CLIENT_SCOPES
from idp.oauth import dpop_token
from idp.oauth.client_auth import CONFIDENTIAL_AUTH_METHODS
from idp.services import issuance


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_token_request(self):
        super().validate_token_request()
        scopes = list(dict.fromkeys((self.request.payload.scope or "").split()))
        if any(scope not in CLIENT_SCOPES for scope in scopes):
            raise InvalidScopeError(
                "Client credentials tokens carry only client scopes: "
                + ", ".join(CLIENT_SCOPES)
                + "."
            )
        client = self.request.client
        if set(scopes) & set(REGISTERED_CLIENT_SCOPES) - set(client.scopes):
            raise InvalidScopeError("The scope exceeds what the client registered.")
        self._scope = " ".join(scopes)

    def create_token_response(self):
        client = self.request.client
        jkt = dpop_token.key_for_tokens(self.request, client)  # RFC 9449 §5
        grant = issuance.TokenGrant(client, self.GRANT_TYPE, scope=self._scope, dpop_jkt=jkt)
        body = issuance.issue(grant)
        return 200, body, self.TOKEN_RESPONSE_HEADER
