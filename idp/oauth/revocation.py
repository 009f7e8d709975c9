"""Token revocation (RFC 7009) for authenticated clients.

A client revokes only its own tokens: another client's token, an unknown or
an already revoked one all get the same ``200`` and nothing changes (§2.2).
Revoking a refresh token revokes its whole family (every token of the grant);
revoking an access token ends that token and the refresh token issued with it
(``idp.services.revocation``).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint

from idp.oauth.client_auth import AUTH_METHODS
from idp.oauth.presented_token import PresentedToken, find_presented_token
from idp.services import revocation


class RevocationEndpoint(BaseRevocationEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def check_params(self, request, client):
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'.")

    def query_token(self, token_string, token_type_hint):
        return find_presented_token(token_string, token_type_hint)

    def authenticate_token(self, request, client):
        self.check_params(request, client)
        found = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if found is None or found.row.client_id != client.id:
            return None
        return found

    def revoke_token(self, token: PresentedToken, request):
        revocation.revoke_presented(token.row, token.kind, request.client)
