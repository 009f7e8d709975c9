"""oidcc-config-certification-test-plan: ``oidcc-discovery-endpoint-verification``
(OP-Discovery-Config, OP-Discovery-jwks_uri, OP-Discovery-JWKs,
OP-Discovery-claims_supported; the config plan's only test).

The discovery document (OIDC Discovery 1.0 §3, §4) of a provider whose issuer is
https: served as JSON at the issuer plus ``/.well-known/openid-configuration``,
its ``issuer`` exactly that prefix; the values the certification requires
(``code`` among the response types, ``authorization_code`` among the grant
types, ``openid`` among the scopes, RS256 for ID tokens, subject types); only
registered metadata names, each of its type; every endpoint https; a JWKS of
public signing keys with distinct ``kid``s; well-formed scopes and locales.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conformance import metadata_checks
from tests.conformance.suite import HTTPS_ISSUER


def test_oidcc_discovery_endpoint_verification(discovery):
    metadata = metadata_checks.check_discovery_response(discovery(metadata_checks.DISCOVERY_PATH))

    # CheckDiscEndpointIssuer, ...IssuerIsValidUrl (OIDC Discovery §4.3, RFC 8414 §2).
    assert metadata["issuer"] == HTTPS_ISSUER, "fetched at the issuer plus the well-known path"
    issuer = urlsplit(metadata["issuer"])
    assert issuer.scheme == "https" and not issuer.query and not issuer.fragment

    # ValidateServerMetadataAgainstSchema, CheckForUnexpectedParametersInServerMetadata.
    assert set(metadata) <= metadata_checks.REGISTERED_METADATA, (
        set(metadata) - metadata_checks.REGISTERED_METADATA
    )
    for name, value in metadata.items():
        if name.endswith("_values_supported") or name.endswith("_methods_supported"):
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), name
        elif name.endswith("_supported"):
            assert isinstance(value, (bool, list)), name

    # The values the certification profiles need.
    assert "code" in metadata["response_types_supported"]
    assert "authorization_code" in metadata["grant_types_supported"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert "none" not in metadata["id_token_signing_alg_values_supported"]
    assert metadata["subject_types_supported"]
    assert set(metadata["subject_types_supported"]) <= {"public", "pairwise"}
    assert "openid" in metadata["scopes_supported"]
    assert all(metadata_checks.SCOPE_TOKEN.match(scope) for scope in metadata["scopes_supported"])
    assert "sub" in metadata["claims_supported"]
    assert isinstance(metadata["claims_parameter_supported"], bool)
    assert isinstance(metadata["request_parameter_supported"], bool)
    assert isinstance(metadata["request_uri_parameter_supported"], bool)
    assert isinstance(metadata["code_challenge_methods_supported"], list)
    for name in ("ui_locales_supported", "claims_locales_supported"):
        for tag in metadata.get(name, []):
            assert metadata_checks.LANGUAGE_TAG.match(tag), f"{name}: {tag}"

    # CheckDiscEndpointAuthorizationEndpoint, ...TokenEndpoint, ...UserinfoEndpoint,
    # ...RegistrationEndpoint, CheckJwksUri, CheckDiscEndpointAllEndpointsAreHttps.
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        metadata_checks.check_https_url(metadata[name])
    metadata_checks.check_endpoints_are_https(metadata)

    # FetchServerKeys, ValidateJwksSequence.
    jwks = discovery(urlsplit(metadata["jwks_uri"]).path)
    assert jwks.status_code == 200
    assert jwks.mimetype in ("application/json", "application/jwk-set+json")
    metadata_checks.check_jwks(jwks.get_json())


def test_the_same_document_at_the_oauth_metadata_path(discovery):
    """RFC 8414 §3: the OAuth authorization server metadata path serves the same document."""
    openid = metadata_checks.check_discovery_response(discovery(metadata_checks.DISCOVERY_PATH))
    oauth = metadata_checks.check_discovery_response(
        discovery("/.well-known/oauth-authorization-server")
    )
    assert oauth == openid
