"""The conformance suite's conditions on provider metadata and key sets (OIDC Discovery 1.0,
RFC 8414, RFC 7517), in our words, for the config and logout plans' discovery tests."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from joserfc.jwk import KeySet

DISCOVERY_PATH = "/.well-known/openid-configuration"
#: Provider metadata names registered with IANA (OAuth Authorization Server Metadata),
#: from OIDC Discovery, RFC 8414 and the specifications that extend them.
REGISTERED_METADATA = {
    "issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
    "registration_endpoint", "scopes_supported", "response_types_supported",
    "response_modes_supported", "grant_types_supported", "acr_values_supported",
    "subject_types_supported", "id_token_signing_alg_values_supported",
    "id_token_encryption_alg_values_supported", "id_token_encryption_enc_values_supported",
    "userinfo_signing_alg_values_supported", "userinfo_encryption_alg_values_supported",
    "userinfo_encryption_enc_values_supported", "request_object_signing_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "request_object_encryption_enc_values_supported", "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported", "display_values_supported",
    "claim_types_supported", "claims_supported", "service_documentation",
    "claims_locales_supported", "ui_locales_supported", "claims_parameter_supported",
    "request_parameter_supported", "request_uri_parameter_supported",
    "require_request_uri_registration", "op_policy_uri", "op_tos_uri",
    "revocation_endpoint", "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported", "introspection_endpoint",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "code_challenge_methods_supported", "signed_metadata", "end_session_endpoint",
    "check_session_iframe", "frontchannel_logout_supported",
    "frontchannel_logout_session_supported", "backchannel_logout_supported",
    "backchannel_logout_session_supported", "authorization_response_iss_parameter_supported",
    "pushed_authorization_request_endpoint", "require_pushed_authorization_requests",
    "dpop_signing_alg_values_supported", "require_signed_request_object",
    "grant_management_endpoint", "grant_management_actions_supported",
    "grant_management_action_required", "authorization_details_types_supported",
    "prompt_values_supported", "tls_client_certificate_bound_access_tokens",
    "mtls_endpoint_aliases", "device_authorization_endpoint",
    "backchannel_authentication_endpoint", "backchannel_token_delivery_modes_supported",
    "backchannel_authentication_request_signing_alg_values_supported",
    "backchannel_user_code_parameter_supported", "protected_resources",
    "authorization_signing_alg_values_supported",
    "authorization_encryption_alg_values_supported",
    "authorization_encryption_enc_values_supported",
    "introspection_signing_alg_values_supported",
    "introspection_encryption_alg_values_supported",
    "introspection_encryption_enc_values_supported",
}  # fmt: skip
#: RFC 6749 §3.3: scope-token = 1*NQCHAR.
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
#: BCP 47 language tags, in their canonical casing (language lower, region upper).
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
_PRIVATE_KEY_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def check_discovery_response(response) -> dict:
    """EnsureDiscoveryEndpointResponseStatusCodeIs200, CheckDiscoveryEndpointReturnedJsonContentType."""
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def check_https_url(value) -> None:
    """CheckDiscEndpointAllEndpointsAreHttps: an absolute https URL without a fragment."""
    assert isinstance(value, str), value
    parts = urlsplit(value)
    assert parts.scheme == "https" and parts.netloc and not parts.fragment, value


def check_endpoints_are_https(metadata: dict) -> None:
    for name, value in metadata.items():
        if name.endswith(("_endpoint", "_uri", "_iframe")) or name == "issuer":
            check_https_url(value)


def check_jwks(document: dict) -> None:
    """ValidateJwksSequence: keys with a type and a unique ``kid``, for signing, public
    parts only (RFC 7517 §4, §5), at least one RSA key for RS256 (OIDC Core §10.1)."""
    keys = document["keys"]
    assert isinstance(keys, list) and keys
    kids = [key.get("kid") for key in keys]
    assert all(kids) and len(set(kids)) == len(kids), "RFC 7517 §4.5: distinct kids"
    for key in keys:
        assert key["kty"] in ("RSA", "EC"), key
        assert key.get("use", "sig") == "sig"
        assert not _PRIVATE_KEY_MEMBERS & set(key), "no private key material"
        if key["kty"] == "RSA":
            assert key["n"] and key["e"]
        else:
            assert key["crv"] and key["x"] and key["y"]
    KeySet.import_key_set(document)
    assert any(key["kty"] == "RSA" and key.get("alg", "RS256") == "RS256" for key in keys)
