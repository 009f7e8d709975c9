"""Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): only what this provider does.

The same document is served at ``/.well-known/openid-configuration`` and
``/.well-known/oauth-authorization-server``. Values come from the catalogue and
the modules that implement them, so the document cannot promise more than
the code does.
"""

from __future__ import annotations

from idp.catalog import CLIENT_SCOPES, SCOPE_CLAIMS
from idp.locales import LOCALES
from idp.oauth.authorize.checks import PROMPT_VALUES
from idp.oauth.claims import ACR_TWO_FACTOR, ID_TOKEN_CLAIMS
from idp.oauth.client_auth import ASSERTION_ALGORITHMS, AUTH_METHODS, CONFIDENTIAL_AUTH_METHODS
from idp.services.signing_keys import ALGORITHMS

#: Paths of every endpoint, relative to the issuer. UserInfo and logout are served
#: by their own packages; they are listed here so partners find them.
PATHS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "userinfo_endpoint": "/oauth/userinfo",
    "jwks_uri": "/oauth/jwks.json",
    "revocation_endpoint": "/oauth/revoke",
    "introspection_endpoint": "/oauth/introspect",
    "end_session_endpoint": "/oauth/logout",
    "registration_endpoint": "/oauth/register",
}


def _claims_supported() -> list[str]:
    member_claims = [claim for claims in SCOPE_CLAIMS.values() for claim in claims]
    return list(dict.fromkeys([*ID_TOKEN_CLAIMS, *member_claims]))


def provider_metadata(issuer: str) -> dict:
    metadata: dict = {"issuer": issuer}
    metadata.update({name: issuer + path for name, path in PATHS.items()})
    metadata.update(
        {
            "scopes_supported": [*SCOPE_CLAIMS, *CLIENT_SCOPES],
            "claims_supported": _claims_supported(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": list(ALGORITHMS),
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL_AUTH_METHODS),
            "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": list(PROMPT_VALUES),
            "acr_values_supported": [ACR_TWO_FACTOR],
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "ui_locales_supported": list(LOCALES),
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
        }
    )
    return metadata
