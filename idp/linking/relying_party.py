"""The authorization code flow with an airline's ID service, as an OpenID relying party.

``begin`` builds the authorization request (OIDC Core §3.1.2.1): response type
``code``, scope ``openid``, a fresh ``state`` and ``nonce``, and a PKCE S256
challenge (RFC 7636 §4.2) whose verifier is kept for the token request. The
caller stores the request (``idp.services.linked_profiles``) and sends the
browser to ``url``.

``finish`` takes the answer at ``<IDP_ISSUER>/linking/<airline>/callback``:
the RFC 9207 ``iss`` parameter (when sent, or when the upstream says it always
sends it: the mix-up defence), then an error answered by the airline, then
the code exchanged at the token endpoint with the client secret (HTTP Basic)
and the verifier, then the ID token checked (``idp.linking.id_token``).
Authlib's OAuth 2.0 client builds both requests.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from idp.linking import metadata
from idp.linking.errors import UpstreamError
from idp.linking.id_token import UpstreamIdentity, nonce_hash, verify_id_token
from idp.linking.upstreams import Upstream

SCOPE = "openid"


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce_hash: str
    code_verifier: str


def _session(upstream: Upstream, **kwargs) -> OAuth2Session:
    return OAuth2Session(
        client_id=upstream.client_id,
        redirect_uri=upstream.redirect_uri,
        scope=SCOPE,
        code_challenge_method="S256",
        **kwargs,
    )


def begin(upstream: Upstream, ui_locales: str | None = None) -> AuthorizationRequest:
    """A new authorization request at ``upstream`` (reads its discovery document)."""
    document = metadata.provider_metadata(upstream)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: within RFC 7636's 43 to 128
    extra = {"ui_locales": ui_locales} if ui_locales else {}
    with _session(upstream) as client:
        url, _state = client.create_authorization_url(
            document["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            **extra,
        )
    return AuthorizationRequest(url, state, nonce_hash(nonce), verifier)


def _check_response(upstream: Upstream, document: dict, args) -> str:
    """The code of the authorization response, once its error and ``iss`` are checked."""
    # RFC 9207 §2.4: the issuer first, error responses included.
    issuer = args.get("iss")
    if issuer is None and document.get("authorization_response_iss_parameter_supported"):
        raise UpstreamError("wrong_issuer", "the response lacks iss (RFC 9207 §2.4)")
    if issuer is not None and issuer != upstream.issuer:
        raise UpstreamError("wrong_issuer", "the response names another issuer (RFC 9207)")
    error = args.get("error")
    if error:
        kind = "access_denied" if error == "access_denied" else "upstream_error"
        raise UpstreamError(kind, str(error)[:64])
    code = args.get("code")
    if not code or len(code) > 2048:
        raise UpstreamError("invalid_response", "the response carries no code")
    return code


def _exchange(upstream: Upstream, document: dict, code: str, verifier: str) -> dict:
    with _session(
        upstream,
        client_secret=upstream.client_secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106  (a method name)
    ) as client:
        try:
            return client.fetch_token(
                document["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                timeout=metadata.timeout(),
            )
        except requests.Timeout as exc:
            raise UpstreamError("timeout", "token endpoint") from exc
        except requests.JSONDecodeError as exc:  # answered, but not with JSON
            raise UpstreamError("invalid_response", "token endpoint") from exc
        except requests.RequestException as exc:
            raise UpstreamError("unreachable", "token endpoint") from exc
        except AuthlibBaseError as exc:
            raise UpstreamError("upstream_error", f"token endpoint: {exc.error}") from exc
        except ValueError as exc:  # a body that is not JSON
            raise UpstreamError("invalid_response", "token endpoint") from exc


def finish(upstream: Upstream, args, expected_nonce_hash: str, verifier: str) -> UpstreamIdentity:
    """The profile that authenticated at ``upstream``, or ``UpstreamError``."""
    document = metadata.provider_metadata(upstream)
    code = _check_response(upstream, document, args)
    token = _exchange(upstream, document, code, verifier)
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not id_token:
        raise UpstreamError("invalid_response", "the token response carries no ID token")
    return verify_id_token(id_token, upstream, expected_nonce_hash)
