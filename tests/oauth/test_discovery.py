"""Discovery (OIDC Discovery §3, RFC 8414) and the JWKS it points to."""

from __future__ import annotations

from authlib.oidc.discovery import OpenIDProviderMetadata

from idp.catalog import CLIENT_SCOPES, SCOPE_CLAIMS
from tests.oauth.conftest import ISSUER


def test_metadata_lists_every_endpoint_and_only_what_is_supported(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    metadata = response.get_json()
    OpenIDProviderMetadata(metadata).validate()
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert metadata["userinfo_endpoint"] == f"{ISSUER}/oauth/userinfo"
    assert metadata["jwks_uri"] == f"{ISSUER}/oauth/jwks.json"
    assert metadata["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert metadata["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"
    assert metadata["end_session_endpoint"] == f"{ISSUER}/oauth/logout"
    assert metadata["registration_endpoint"] == f"{ISSUER}/oauth/register"
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["response_modes_supported"] == ["query"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["subject_types_supported"] == ["pairwise", "public"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert metadata["scopes_supported"] == [*SCOPE_CLAIMS, *CLIENT_SCOPES]
    for claim in ("sub", "email", "card_number", "miles_balance", "lhg_profiles", "acr", "sid"):
        assert claim in metadata["claims_supported"]
    assert metadata["claims_parameter_supported"] is True
    assert metadata["request_parameter_supported"] is False
    assert metadata["request_uri_parameter_supported"] is False
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["prompt_values_supported"] == ["none", "login", "consent", "select_account"]
    assert metadata["ui_locales_supported"] == ["en", "de", "nl", "pl"]
    assert metadata["acr_values_supported"] == ["urn:mam:acr:2fa"]
    assert "implicit" not in str(metadata) and "form_post" not in str(metadata)


def test_rfc8414_document_is_the_same(client):
    oidc = client.get("/.well-known/openid-configuration").get_json()
    oauth = client.get("/.well-known/oauth-authorization-server").get_json()
    assert oauth == oidc


def test_jwks_publishes_public_keys_with_a_short_cache(client):
    response = client.get("/oauth/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Pragma" not in response.headers
    keys = response.get_json()["keys"]
    assert {k["alg"] for k in keys} >= {"RS256", "ES256"}
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
