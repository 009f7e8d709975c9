"""``GET /api/openapi.json``: an OpenAPI 3.1 document of the partner-facing JSON APIs.

Registration (RFC 7591/7592), pushed authorization requests (RFC 9126), token,
introspection, revocation, UserInfo, the miles API, the grant management API
(Grant Management for OAuth 2.0) and the Shared Signals stream management and
poll endpoints (``idp.api.openapi_ssf``). Paths are the ones discovery names; every answer an endpoint
can give is listed with its media type, so a generated client (and the
schemathesis run in the tests) knows each of them.
"""

from __future__ import annotations

from flask import current_app, jsonify

from idp.api import blueprint, openapi_ssf
from idp.api.openapi_schemas import SCHEMAS
from idp.extensions import limiter
from idp.web.limits import api_rate_limit


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, description: str, media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": _ref(schema)}}}


#: Answers every endpoint can give before it looks at the request.
COMMON = {
    "413": _json("Problem", "The body is over the size limit.", "application/problem+json"),
    "429": _json("Problem", "Too many requests from this address.", "application/problem+json"),
}
OAUTH_ERRORS = {
    "400": _json("OAuthError", "A bad request (RFC 6749 §5.2)."),
    "401": _json("OAuthError", "Client authentication failed (invalid_client)."),
    **COMMON,
}
BEARER_ERRORS = {
    "400": _json("OAuthError", "A bad request (RFC 6750 §3.1)."),
    "401": _json("OAuthError", "No valid token (WWW-Authenticate: Bearer, or DPoP, RFC 9449 §7)."),
    "403": _json("OAuthError", "The token lacks the scope (insufficient_scope)."),
    **COMMON,
}
REGISTRATION_ERRORS = {
    "400": _json("OAuthError", "invalid_redirect_uri or invalid_client_metadata (RFC 7591)."),
    "401": _json("OAuthError", "The token is missing, unknown, used up or for another client."),
    **COMMON,
}
FORM = "application/x-www-form-urlencoded"
CLIENT_AUTH = [{"clientBasic": []}, {}]  # {}: client_secret_post, private_key_jwt, none


def _form(schema: str) -> dict:
    return {"required": True, "content": {FORM: {"schema": _ref(schema)}}}


def _metadata_body() -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref("ClientMetadata")}}}


CLIENT_ID = {"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}}
#: RFC 9449 §4: the proof, at the token endpoint and with a DPoP-bound token.
DPOP_PROOF = {
    "name": "DPoP",
    "in": "header",
    "required": False,
    "description": "A DPoP proof JWT (RFC 9449); tokens are then bound to its key.",
    "schema": {"type": "string"},
}
#: A DPoP-bound token is sent as ``Authorization: DPoP <token>`` (RFC 9449 §7.1).
TOKEN_SECURITY = [{"accessToken": []}, {"dpopToken": []}]
GRANT_ID = {"name": "grant_id", "in": "path", "required": True, "schema": {"type": "string"}}
GRANT_ERRORS = {
    **BEARER_ERRORS,
    "404": _json("OAuthError", "The client holds no such grant (invalid_grant_id)."),
}


def _paths() -> dict:
    registration = {
        "post": {
            "operationId": "registerClient",
            "summary": "Register a client (RFC 7591 §3.1).",
            "security": [{"initialAccessToken": []}],
            "requestBody": _metadata_body(),
            "responses": {
                "201": _json("ClientInformation", "Registered; secrets shown once."),
                **REGISTRATION_ERRORS,
            },
        }
    }
    configuration = {
        "parameters": [CLIENT_ID],
        "get": {
            "operationId": "readClient",
            "summary": "The client as registered (RFC 7592 §2.1).",
            "security": [{"registrationAccessToken": []}],
            "responses": {"200": _json("ClientInformation", "The client."), **REGISTRATION_ERRORS},
        },
        "put": {
            "operationId": "updateClient",
            "summary": "Replace the client's metadata (RFC 7592 §2.2); a new token is returned.",
            "security": [{"registrationAccessToken": []}],
            "requestBody": _metadata_body(),
            "responses": {
                "200": _json("ClientInformation", "Updated, with a new access token."),
                **REGISTRATION_ERRORS,
            },
        },
        "delete": {
            "operationId": "deleteClient",
            "summary": "Retire the client (RFC 7592 §2.3).",
            "security": [{"registrationAccessToken": []}],
            "responses": {"204": {"description": "Retired."}, **REGISTRATION_ERRORS},
        },
    }
    token_presented = {
        "security": CLIENT_AUTH,
        "requestBody": _form("TokenPresented"),
    }
    userinfo = {
        "security": TOKEN_SECURITY,
        "parameters": [DPOP_PROOF],
        "responses": {"200": _json("UserInfo", "The member's claims."), **BEARER_ERRORS},
    }
    return {
        "/oauth/register": registration,
        "/oauth/register/{client_id}": configuration,
        "/oauth/par": {
            "post": {
                "operationId": "pushAuthorizationRequest",
                "summary": "Push an authorization request, get its request_uri (RFC 9126 §2).",
                "security": CLIENT_AUTH,
                "requestBody": _form("PushedRequest"),
                "responses": {
                    "201": _json("PushedRequestResponse", "The request_uri."),
                    **OAUTH_ERRORS,
                },
            }
        },
        "/oauth/token": {
            "post": {
                "operationId": "token",
                "summary": "Tokens for a code, a refresh token or the client (RFC 6749 §3.2).",
                "security": CLIENT_AUTH,
                "parameters": [DPOP_PROOF],
                "requestBody": _form("TokenRequest"),
                "responses": {"200": _json("TokenResponse", "Tokens."), **OAUTH_ERRORS},
            }
        },
        "/oauth/introspect": {
            "post": {
                "operationId": "introspect",
                "summary": "Whether a token of this client is active (RFC 7662).",
                **token_presented,
                "responses": {"200": _json("Introspection", "The token's state."), **OAUTH_ERRORS},
            }
        },
        "/oauth/revoke": {
            "post": {
                "operationId": "revoke",
                "summary": "Revoke a token of this client (RFC 7009).",
                **token_presented,
                "responses": {"200": {"description": "Revoked, or unknown."}, **OAUTH_ERRORS},
            }
        },
        "/oauth/userinfo": {
            "get": {"operationId": "userinfo", "summary": "OIDC Core §5.3.", **userinfo},
            "post": {"operationId": "userinfoPost", "summary": "OIDC Core §5.3.", **userinfo},
        },
        "/oauth/grants/{grant_id}": {
            "parameters": [GRANT_ID],
            "get": {
                "operationId": "queryGrant",
                "summary": "The grant's status (Grant Management §6.4; grant_management_query).",
                "security": [{"accessToken": []}],
                "responses": {"200": _json("Grant", "The grant."), **GRANT_ERRORS},
            },
            "delete": {
                "operationId": "revokeGrant",
                "summary": "Release the grant: the member's consent is withdrawn "
                "(Grant Management §6.5; grant_management_revoke).",
                "security": [{"accessToken": []}],
                "responses": {"204": {"description": "Released."}, **GRANT_ERRORS},
            },
        },
        "/api/v1/me/miles": {
            "get": {
                "operationId": "myMiles",
                "summary": "The member's miles balance (scope miles).",
                "security": TOKEN_SECURITY,
                "parameters": [DPOP_PROOF],
                "responses": {"200": _json("Miles", "The balance."), **BEARER_ERRORS},
            }
        },
    }


def openapi_document(issuer: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Login with Miles & More: partner APIs",
            "version": "1",
            "description": "Find every endpoint through /.well-known/openid-configuration.",
        },
        "servers": [{"url": issuer}],
        "paths": {**_paths(), **openapi_ssf.ssf_paths()},
        "components": {
            "schemas": {**SCHEMAS, **openapi_ssf.SCHEMAS},
            "securitySchemes": {
                "clientBasic": {"type": "http", "scheme": "basic"},
                "accessToken": {"type": "http", "scheme": "bearer"},
                "dpopToken": {"type": "http", "scheme": "DPoP"},
                "initialAccessToken": {"type": "http", "scheme": "bearer"},
                "registrationAccessToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@blueprint.get("/api/openapi.json")
@limiter.limit(api_rate_limit)
def openapi():
    return jsonify(openapi_document(current_app.config["IDP"].issuer))
