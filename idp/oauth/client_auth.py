"""Client authentication at the back-channel endpoints (RFC 6749 §2.3, OIDC Core §9).

Methods: ``client_secret_basic``, ``client_secret_post``, ``private_key_jwt``
(RFC 7523 with the client's registered keys) and ``none`` for public clients,
which then must use PKCE. A client uses exactly the method it registered.

Every failure is the same ``401 invalid_client`` with a Basic challenge, so a
caller cannot tell an unknown client from a wrong secret (RFC 6749 §5.2).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from datetime import UTC, datetime
from urllib.parse import unquote

import requests
from authlib.oauth2.rfc6749.authenticate_client import (
    ClientAuthentication as BaseClientAuthentication,
)
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp import defaults
from idp.models import ClientRecord
from idp.request_text import is_text
from idp.services import client_assertions, client_cache

log = logging.getLogger(__name__)

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
#: Algorithms accepted for private_key_jwt assertions.
ASSERTION_ALGORITHMS = ("RS256", "ES256")
#: A fetched jwks_uri document is reused this long.
JWKS_CACHE_SECONDS = defaults.CLIENT_JWKS_CACHE_SECONDS
MAX_JTI_LENGTH = 255
MAX_ASSERTION_LENGTH = 8192


class ClientAuthenticationFailed(InvalidClientError):
    """RFC 6749 §5.2: 401 with a challenge for the scheme the client may use."""

    status_code = 401

    def __init__(self, description: str = "Client authentication failed."):
        super().__init__(description=description, status_code=401)

    def get_headers(self):
        headers = [h for h in super().get_headers() if h[0] != "WWW-Authenticate"]
        realm = current_app.config["IDP"].issuer
        headers.append(("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"'))
        return headers


def query_client(client_id) -> ClientRecord | None:
    """The client as stored now, from this process's copy when its version is current.

    Authlib and the grants only read the client, so they get the read-only copy
    (``idp.services.client_cache``), never the mapped row.
    """
    # Nothing that could not be a client id is looked up (a NUL fails in PostgreSQL).
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 64 or not is_text(client_id):
        return None
    client = client_cache.find(client_id)
    # A suspended client (idp.services.approval) authenticates nowhere until reinstated.
    return None if client is None or client.suspended else client


class ClientAuthentication(BaseClientAuthentication):
    """Authlib's registry of methods, with one method per request and one kind of failure."""

    def authenticate(self, request, methods, endpoint):
        basic_id = _basic_client_id(request.headers)
        form = request.form
        used = [
            basic_id is not None,
            "client_secret" in form,
            "client_assertion" in form or "client_assertion_type" in form,
        ]
        if sum(used) > 1:
            raise InvalidRequestError("Use one client authentication method per request.")
        form_id = form.get("client_id")
        if basic_id is not None and form_id is not None and form_id != basic_id:
            raise ClientAuthenticationFailed()
        try:
            return super().authenticate(request, methods, endpoint)
        except InvalidClientError as error:
            log.info("client authentication failed at %s: %s", endpoint, error.description)
            raise ClientAuthenticationFailed() from error


def _basic_client_id(headers) -> str | None:
    """The client id of an HTTP Basic header (RFC 6749 §2.3.1), None without a header.

    Any other Authorization header (blank, another scheme, a bare ``Bearer ``, bad
    base64, no colon, bytes that are not UTF-8, a NUL) is an attempt to authenticate that
    failed: 401 ``invalid_client`` (§5.2). It is refused here, before Authlib reads
    the header, because Authlib fails on some of these with a ValueError.
    """
    header = headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ClientAuthenticationFailed()
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ClientAuthenticationFailed() from exc
    client_id, separator, secret = decoded.partition(":")
    # §2.3.1: both halves are form-encoded before they are joined; Authlib decodes them too.
    client_id, secret = unquote(client_id), unquote(secret)
    if not separator or not client_id or not is_text(client_id) or not is_text(secret):
        raise ClientAuthenticationFailed()
    return client_id


class PrivateKeyJWT(JWTBearerClientAssertion):
    """RFC 7523 §2.2 / OIDC Core §9 ``private_key_jwt``.

    The assertion is signed with a key of the client's ``jwks`` (or ``jwks_uri``),
    its ``aud`` is our token endpoint or issuer, ``exp`` is required, and each
    ``jti`` is accepted once until the assertion expires.
    """

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self):
        super().__init__(validate_jti=True, leeway=30)

    def get_audiences(self):
        # RFC 9126 §2: the pushed authorization request endpoint's URL identifies us too.
        issuer = current_app.config["IDP"].issuer
        return [issuer, f"{issuer}/oauth/token", f"{issuer}/oauth/par"]

    def resolve_client_public_key(self, client):
        if client.token_endpoint_auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(description="The client does not use private_key_jwt.")
        try:
            document = client.jwks or _fetch_jwks(client.jwks_uri)
            return KeySet.import_key_set(document)
        except InvalidClientError:
            raise
        except Exception as exc:  # a broken key set is the client's failure, not ours
            raise InvalidClientError(description="The client's keys cannot be used.") from exc

    def extract_assertion(self, assertion: str):
        if len(assertion) > MAX_ASSERTION_LENGTH:
            raise InvalidClientError(description="The client assertion is too long.")
        try:
            return super().extract_assertion(assertion)
        except RecursionError as exc:
            raise InvalidClientError(description="Invalid JWT payload.") from exc

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGORITHMS))
        except (JoseError, ValueError, TypeError, KeyError, RecursionError) as exc:
            raise InvalidClientError(description="The client assertion does not verify.") from exc
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims, jti):
        client = query_client(claims.get("sub"))
        if client is None or not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            return False
        if not is_text(jti):  # stored in a text column
            return False
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return client_assertions.remember(client, jti, expires_at)


_jwks_cache: dict[str, tuple[float, dict]] = {}


def _fetch_jwks(uri: str | None) -> dict:
    """The client's published key set (OIDC Registration ``jwks_uri``), cached briefly."""
    if not uri:
        raise InvalidClientError(description="The client registered no keys.")
    cached = _jwks_cache.get(uri)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    response = requests.get(uri, timeout=5, headers={"Accept": "application/json"})
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise InvalidClientError(description="The client's jwks_uri holds no key set.")
    _jwks_cache[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, document)
    return document
