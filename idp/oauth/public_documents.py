"""Discovery and the JWK Set answered from bytes serialised once, with a strong ETag.

Both are public and change rarely: the metadata never within a process (the
issuer is fixed at start), the key set only when a key is rotated or a retired
one leaves it (``idp.services.signing_key_cache`` says when). So each is
serialised once, its ETag is a digest of the bytes (a strong validator, RFC
9110 §8.8.3), and a client that sends it back in ``If-None-Match`` gets
``304 Not Modified`` without a body (RFC 9110 §13.1.2, §15.4.5).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from flask import Response, current_app, request

from idp import defaults
from idp.oauth.discovery import provider_metadata
from idp.services import signing_keys

#: Partners and their libraries may cache these documents briefly.
PUBLIC_CACHE = f"public, max-age={defaults.PUBLIC_DOCUMENT_CACHE_SECONDS}"
JSON = "application/json"
#: Where an application keeps its serialised documents.
_DISCOVERY = "idp_discovery_document"
_JWKS = "idp_jwks_document"


@dataclass(frozen=True)
class Document:
    body: bytes
    #: The entity tag without its quotes.
    tag: str

    @classmethod
    def of(cls, data: dict) -> Document:
        """Serialised as ``jsonify`` would (the application's JSON settings)."""
        body = (current_app.json.dumps(data) + "\n").encode()
        digest = hashlib.sha256(body).digest()[:18]
        return cls(body=body, tag=base64.urlsafe_b64encode(digest).decode())

    def response(self) -> Response:
        """200 with the bytes, or 304 when the client holds them already.

        If-None-Match compares weakly (RFC 9110 §13.1.2), so ``W/"tag"`` and ``*``
        match too. HEAD gets the same headers without the body (Werkzeug).
        """
        headers = [("ETag", f'"{self.tag}"'), ("Cache-Control", PUBLIC_CACHE)]
        if request.if_none_match.contains_weak(self.tag):
            return current_app.response_class(status=304, headers=headers)
        return current_app.response_class(self.body, headers=headers, content_type=JSON)


def discovery_document() -> Document:
    """Provider metadata, built once per application."""
    extensions = current_app.extensions
    document = extensions.get(_DISCOVERY)
    if document is None:
        settings = current_app.config["IDP"]
        document = Document.of(provider_metadata(settings.issuer, settings.require_par))
        extensions[_DISCOVERY] = document
    return document


def jwks_document() -> Document:
    """The key set as published now; serialised again only when it changed."""
    published = signing_keys.published()
    kept = current_app.extensions.get(_JWKS)
    if kept is None or kept[0] is not published:
        kept = (published, Document.of(published.document))
        current_app.extensions[_JWKS] = kept
    return kept[1]
