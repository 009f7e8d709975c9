"""Token introspection (RFC 7662) for confidential clients.

A client learns about its own tokens only; anything else is ``{"active":
false}``. Refresh tokens are answered too: ``exp`` is present for a limited
grant and absent for one without time limit. The token, its consent, client
and member come from one query (``idp.services.token_lookup``). A DPoP-bound
token has ``token_type`` ``DPoP`` and names its key as ``cnf.jkt`` (RFC 9449
§6.2); so does a public client's refresh token, which is bound with it (§5). A
token issued under a member's consent names its grant (``grant_id``, Grant
Management for OAuth 2.0), as the token response did.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint
from flask import current_app

from idp.oauth.client_auth import CONFIDENTIAL_AUTH_METHODS
from idp.oauth.presented_token import PresentedToken, find_presented_token
from idp.services import consent as consents
from idp.services import tokens
from idp.services.subjects import subject_for


class IntrospectionEndpoint(BaseIntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def check_params(self, request, client):
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'.")

    def query_token(self, token_string, token_type_hint):
        return find_presented_token(token_string, token_type_hint)

    def check_permission(self, token: PresentedToken, client, request) -> bool:
        return token.row.client_id == client.id

    def create_introspection_payload(self, token: PresentedToken | None) -> dict:
        if token is None:
            return {"active": False}
        row = token.row
        if token.kind == "access_token":
            if not tokens.access_token_active(row):
                return {"active": False}
            expires_at = row.access_expires_at
        else:
            if not tokens.refresh_token_active(row):
                return {"active": False}
            expires_at = _refresh_expiry(row)
        client = row.client
        payload = {
            "active": True,
            # What the consent still covers: a narrowed consent narrows its live tokens.
            "scope": _granted_scope(row),
            "client_id": client.client_id,
            "iat": int(row.issued_at.timestamp()),
            "iss": current_app.config["IDP"].issuer,
            "aud": client.client_id,
        }
        if token.kind == "access_token":
            payload["token_type"] = row.token_type
        if row.dpop_jkt and (token.kind == "access_token" or client.is_public):
            payload["cnf"] = {"jkt": row.dpop_jkt}
        if expires_at is not None:
            payload["exp"] = int(expires_at.timestamp())
        member = row.member
        payload["sub"] = subject_for(member, client) if member else client.client_id
        if row.auth_time is not None:
            payload["auth_time"] = int(row.auth_time.timestamp())
        if row.consent is not None:
            payload["grant_id"] = row.consent.grant_id  # Grant Management §5.4
        return payload


def _granted_scope(row) -> str:
    """The token's scope less what its consent no longer covers (Stop sharing)."""
    if row.consent_id is None:
        return row.scope
    return " ".join(consents.covered_scopes(row.consent, row.scope.split()))


def _refresh_expiry(row):
    """The earlier of the token's own end and its consent's end; None without time limit."""
    ends = [row.refresh_expires_at]
    if row.consent_id:
        ends.append(row.consent.expires_at if row.consent else None)
    ends = [end for end in ends if end is not None]
    return min(ends) if ends else None
