"""The JSON Schemas of the OpenAPI document (``idp.api.openapi``): bodies partners send and get.

Client metadata follows RFC 7591 §2 and OIDC Registration §2, with this
provider's own ``purposes``, ``access_token_ttl``, ``grant_ttl`` and
``security_event_uri``; tokens RFC 6749 §5.1, introspection RFC 7662 §2.2, pushed
authorization requests RFC 9126 §2.
"""

from __future__ import annotations

from idp.catalog import PURPOSES, SCOPE_CLAIMS
from idp.models.client import TOKEN_ENDPOINT_AUTH_METHODS
from idp.services.client_metadata import GRANT_TYPES, SIGNING_ALGS

_URI = {"type": "string", "format": "uri"}
_URIS = {"type": "array", "items": {"type": "string"}}
_SECONDS = {"type": "integer", "minimum": 1}

CLIENT_METADATA = {
    "type": "object",
    "description": "Client metadata (RFC 7591 §2). Metadata not listed here is ignored.",
    "properties": {
        "client_name": {"type": "string", "maxLength": 200},
        "redirect_uris": _URIS,
        "post_logout_redirect_uris": _URIS,
        "scope": {
            "type": "string",
            "description": "Space-separated: openid, offline_access and the purposes' scopes. "
            "Scopes: " + ", ".join(SCOPE_CLAIMS),
        },
        "purposes": {
            "type": "array",
            "items": {"type": "string", "enum": list(PURPOSES)},
            "description": "Without it, the smallest set of purposes covering the scope.",
        },
        "grant_types": {"type": "array", "items": {"type": "string", "enum": list(GRANT_TYPES)}},
        "response_types": {"type": "array", "items": {"type": "string", "enum": ["code"]}},
        "token_endpoint_auth_method": {
            "type": "string",
            "enum": list(TOKEN_ENDPOINT_AUTH_METHODS),
        },
        "id_token_signed_response_alg": {"type": "string", "enum": list(SIGNING_ALGS)},
        "subject_type": {"type": "string", "enum": ["pairwise"]},
        "access_token_ttl": _SECONDS,
        "grant_ttl": _SECONDS,
        "jwks": {
            "type": "object",
            "description": "Public RSA (2048 bits or more) or P-256 signing keys (RFC 7517 §5).",
            "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
        },
        "jwks_uri": _URI,
        "sector_identifier_uri": _URI,
        "backchannel_logout_uri": _URI,
        "backchannel_logout_session_required": {"type": "boolean"},
        "require_pushed_authorization_requests": {
            "type": "boolean",
            "description": "Authorization requests only through /oauth/par (RFC 9126 §6).",
        },
        "dpop_bound_access_tokens": {"type": "boolean"},
        "security_event_uri": _URI,
        "logo_uri": _URI,
        "client_uri": _URI,
        "policy_uri": _URI,
        "tos_uri": _URI,
    },
}

CLIENT_INFORMATION = {
    "type": "object",
    "description": "RFC 7591 §3.2.1 and RFC 7592 §3: the client as registered.",
    "required": ["client_id", "client_id_issued_at", "registration_client_uri"],
    "properties": {
        **CLIENT_METADATA["properties"],
        "client_id": {"type": "string"},
        "client_id_issued_at": {"type": "integer"},
        "client_secret": {"type": "string", "description": "Only when just issued; shown once."},
        "client_secret_expires_at": {"type": "integer", "description": "0: never."},
        "registration_access_token": {
            "type": "string",
            "description": "Only when just issued; the previous one works until this is used.",
        },
        "registration_client_uri": {"type": "string"},
        "redirect_uris": _URIS,
        "purposes": {"type": "array", "items": {"type": "string"}},
        "jwks": {"type": "object"},
    },
}

OAUTH_ERROR = {
    "type": "object",
    "description": "RFC 6749 §5.2, RFC 6750 §3.1 and RFC 7591 §3.2.2 errors.",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details (too large, too many requests, ...).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}

TOKEN_REQUEST = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": list(GRANT_TYPES)},
        "code": {"type": "string"},
        "redirect_uri": {"type": "string"},
        "code_verifier": {"type": "string"},
        "refresh_token": {"type": "string"},
        "scope": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "client_assertion_type": {"type": "string"},
        "client_assertion": {"type": "string"},
    },
}

PUSHED_REQUEST = {
    "type": "object",
    "description": "RFC 9126 §2.1: the parameters of an authorization request (OIDC Core "
    "§3.1.2.1), and the client's authentication. request_uri cannot be pushed.",
    "required": ["response_type", "redirect_uri", "scope"],
    "properties": {
        "response_type": {"type": "string", "enum": ["code"]},
        "client_id": {"type": "string"},
        "redirect_uri": {"type": "string"},
        "scope": {"type": "string"},
        "state": {"type": "string"},
        "nonce": {"type": "string"},
        "code_challenge": {"type": "string"},
        "code_challenge_method": {"type": "string", "enum": ["S256"]},
        "prompt": {"type": "string"},
        "max_age": {"type": "string"},
        "login_hint": {"type": "string"},
        "ui_locales": {"type": "string"},
        "acr_values": {"type": "string"},
        "claims": {"type": "string"},
        "id_token_hint": {"type": "string"},
        "client_secret": {"type": "string"},
        "client_assertion_type": {"type": "string"},
        "client_assertion": {"type": "string"},
    },
}

PUSHED_REQUEST_RESPONSE = {
    "type": "object",
    "description": "RFC 9126 §2.2: send the member to the authorization endpoint with "
    "client_id and this request_uri, once, within expires_in seconds.",
    "required": ["request_uri", "expires_in"],
    "properties": {
        "request_uri": {"type": "string"},
        "expires_in": {"type": "integer"},
    },
}

TOKEN_RESPONSE = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
        "id_token": {"type": "string"},
        "scope": {"type": "string"},
        "grant_id": {
            "type": "string",
            "description": "The member's grant (Grant Management §5.4); confidential clients.",
        },
    },
}

TOKEN_PRESENTED = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string"},
        "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "client_assertion_type": {"type": "string"},
        "client_assertion": {"type": "string"},
    },
}

INTROSPECTION = {
    "type": "object",
    "required": ["active"],
    "properties": {
        "active": {"type": "boolean"},
        "scope": {"type": "string"},
        "client_id": {"type": "string"},
        "token_type": {"type": "string"},
        "cnf": {"type": "object", "properties": {"jkt": {"type": "string"}}},
        "exp": {"type": "integer"},
        "iat": {"type": "integer"},
        "auth_time": {"type": "integer"},
        "sub": {"type": "string"},
        "aud": {"type": "string"},
        "iss": {"type": "string"},
        "grant_id": {"type": "string"},
    },
}

USERINFO = {
    "type": "object",
    "description": "OIDC Core §5.3: the claims of the scopes the member granted.",
    "required": ["sub"],
    "properties": {"sub": {"type": "string"}},
}

MILES = {
    "type": "object",
    "required": ["card_number", "miles_balance"],
    "properties": {
        "card_number": {
            "type": ["string", "null"],
            "description": "Null unless the card_number scope was granted.",
        },
        "miles_balance": {"type": "integer"},
    },
}

GRANT = {
    "type": "object",
    "description": "Grant Management for OAuth 2.0 §6.4: the grant as the member's consent "
    "covers it now (nothing while the member has paused the partner).",
    "required": ["scopes", "claims"],
    "properties": {
        "scopes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["scope"],
                "properties": {"scope": {"type": "string"}},
            },
        },
        "claims": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "integer"},
        "last_updated_at": {"type": "integer"},
        "expires_at": {"type": "integer", "description": "Absent without time limit."},
        "updated_by": {"type": "string", "enum": ["client", "authorization_server"]},
        "status": {"type": "string", "enum": ["active", "paused"]},
        "purposes": {"type": "array", "items": {"type": "string"}},
    },
}

SCHEMAS = {
    "ClientMetadata": CLIENT_METADATA,
    "ClientInformation": CLIENT_INFORMATION,
    "OAuthError": OAUTH_ERROR,
    "Problem": PROBLEM,
    "PushedRequest": PUSHED_REQUEST,
    "PushedRequestResponse": PUSHED_REQUEST_RESPONSE,
    "TokenRequest": TOKEN_REQUEST,
    "TokenResponse": TOKEN_RESPONSE,
    "TokenPresented": TOKEN_PRESENTED,
    "Introspection": INTROSPECTION,
    "UserInfo": USERINFO,
    "Miles": MILES,
    "Grant": GRANT,
}
