"""An upstream's discovery document and key set, fetched with a timeout and cached.

OpenID Connect Discovery 1.0 §4: the document is read from
``<issuer>/.well-known/openid-configuration`` and its ``issuer`` must be the
configured one exactly (§4.3), or the document is refused. Documents are kept
per process for ``DOCUMENT_SECONDS``.

The key set (``jwks_uri``) is kept until an ID token names a key it does not
hold: then it is fetched once more, which is how an upstream's key rotation is
followed without a restart (OIDC Core §10.1.1).
"""

from __future__ import annotations

import threading
import time

import requests
from flask import current_app
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.linking.errors import UpstreamError
from idp.linking.upstreams import Upstream

DISCOVERY_PATH = "/.well-known/openid-configuration"
DOCUMENT_SECONDS = 300
#: What an upstream document must name for this provider to use it.
REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")

_lock = threading.Lock()
_documents: dict[str, tuple[float, dict]] = {}
_key_sets: dict[str, KeySet] = {}


def timeout() -> float:
    return current_app.config["IDP"].upstream_timeout_seconds


def get_json(url: str) -> dict:
    """GET ``url`` as JSON, each failure named as the member's page explains it."""
    try:
        response = requests.get(url, timeout=timeout(), headers={"Accept": "application/json"})
    except requests.Timeout as exc:
        raise UpstreamError("timeout", url) from exc
    except requests.RequestException as exc:
        raise UpstreamError("unreachable", url) from exc
    if response.status_code != 200:
        raise UpstreamError("invalid_response", f"{url} answered {response.status_code}")
    try:
        document = response.json()
    except ValueError as exc:
        raise UpstreamError("invalid_response", f"{url} is not JSON") from exc
    if not isinstance(document, dict):
        raise UpstreamError("invalid_response", f"{url} is not a JSON object")
    return document


def provider_metadata(upstream: Upstream) -> dict:
    """The upstream's discovery document (cached for ``DOCUMENT_SECONDS``)."""
    now = time.monotonic()
    with _lock:
        cached = _documents.get(upstream.issuer)
    if cached and now - cached[0] < DOCUMENT_SECONDS:
        return cached[1]
    document = get_json(upstream.issuer.rstrip("/") + DISCOVERY_PATH)  # Discovery §4.1
    if document.get("issuer") != upstream.issuer:
        raise UpstreamError("wrong_issuer", "the discovery document names another issuer")
    missing = [name for name in REQUIRED if not isinstance(document.get(name), str)]
    if missing:
        raise UpstreamError("invalid_response", f"discovery lacks {', '.join(missing)}")
    methods = document.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        raise UpstreamError("invalid_response", "the upstream does not support PKCE S256")
    with _lock:
        _documents[upstream.issuer] = (now, document)
    return document


def key_set(upstream: Upstream, refresh: bool = False) -> KeySet:
    """The upstream's signing keys; ``refresh`` fetches them again."""
    with _lock:
        cached = _key_sets.get(upstream.issuer)
    if cached is not None and not refresh:
        return cached
    document = get_json(provider_metadata(upstream)["jwks_uri"])
    try:
        keys = KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise UpstreamError("invalid_response", "the key set cannot be read") from exc
    with _lock:
        _key_sets[upstream.issuer] = keys
    return keys


def forget(issuer: str | None = None) -> None:
    """Drop what is cached (of one issuer, or all): the next use fetches it anew."""
    with _lock:
        for cache in (_documents, _key_sets):
            if issuer is None:
                cache.clear()
            else:
                cache.pop(issuer, None)
