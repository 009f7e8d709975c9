"""Fetching a client's ``sector_identifier_uri`` (OIDC Dynamic Client Registration §5).

The document is a JSON array of redirect URIs, published on the sector's host.
Registration fetches it and refuses the client unless it lists every redirect
URI the client registers: that is how the host proves the client belongs to its
sector, so no client can take another partner's pairwise subjects.

The fetch is bounded: https only (plain http to loopback hosts only while the
provider itself runs on plain http, i.e. locally and in tests, so that a
partner cannot reach a production host's local services), no redirects
followed, a short timeout and a size limit, so a partner cannot make the
provider wait for or read much of anything.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlsplit

import requests
from flask import current_app

from idp.services.errors import InvalidInput

log = logging.getLogger(__name__)

FIELD = "sector_identifier_uri"
#: Seconds to connect, and then between bytes of the answer.
TIMEOUT_SECONDS = 5
#: The largest document read; a list of redirect URIs is far smaller.
MAX_DOCUMENT_BYTES = 64 * 1024


def fetch_sector_redirect_uris(uri: str) -> list[str]:
    """The redirect URIs the document at ``uri`` lists; ``InvalidInput`` when it cannot be used."""
    if urlsplit(uri).scheme != "https" and current_app.config["IDP"].issuer_is_https:
        raise InvalidInput("The sector_identifier_uri must be an https URL.", FIELD)
    try:
        with requests.get(
            uri,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                raise InvalidInput(
                    f"The sector_identifier_uri answered {response.status_code}, not 200.", FIELD
                )
            body = _read_limited(response)
    except requests.RequestException as exc:
        log.info("sector_identifier_uri could not be fetched: %s", type(exc).__name__)
        raise InvalidInput("The sector_identifier_uri could not be fetched.", FIELD) from exc
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("The sector_identifier_uri does not hold JSON.", FIELD) from exc
    if not isinstance(document, list) or not all(isinstance(u, str) for u in document):
        raise InvalidInput("The sector_identifier_uri holds no JSON array of URIs.", FIELD)
    return document


def _read_limited(response) -> bytes:
    """The body, up to the size limit and within the timeout as a whole (not per read)."""
    chunks, size = [], 0
    deadline = time.monotonic() + TIMEOUT_SECONDS
    for chunk in response.iter_content(chunk_size=8192):
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise InvalidInput("The sector_identifier_uri document is too large.", FIELD)
        if time.monotonic() > deadline:
            raise InvalidInput("The sector_identifier_uri answered too slowly.", FIELD)
        chunks.append(chunk)
    return b"".join(chunks)


def check_sector_identifier(uri: str, redirect_uris: list[str]) -> None:
    """§5: every redirect URI of the client is in the sector's document."""
    listed = set(fetch_sector_redirect_uris(uri))
    missing = [u for u in redirect_uris if u not in listed]
    if missing:
        raise InvalidInput(f"The sector_identifier_uri does not list: {', '.join(missing)}.", FIELD)
