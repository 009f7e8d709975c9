"""Transmitter configuration metadata (OpenID SSF 1.0 §7.1), built from what is implemented.

Subjects are not added or removed one by one: a stream carries events about
every member who has a consent at the receiver's client (``default_subjects``
``ALL``), so no ``add_subject_endpoint`` or ``remove_subject_endpoint`` is
offered.
"""

from __future__ import annotations

from idp.models.ssf import POLL, PUSH
from idp.oauth.discovery import PATHS as OAUTH_PATHS

SPEC_VERSION = "1_0"
#: Paths of the transmitter's endpoints, relative to the issuer.
PATHS = {
    "configuration_endpoint": "/ssf/stream",
    "status_endpoint": "/ssf/status",
    "verification_endpoint": "/ssf/verify",
}
POLL_PATH = "/ssf/poll"
#: SSF §7.1.1: receivers authorize with OAuth 2.0 access tokens (client credentials).
AUTHORIZATION_SCHEMES = [{"spec_urn": "urn:ietf:rfc:6749"}]


def poll_url(issuer: str) -> str:
    return issuer + POLL_PATH


def transmitter_metadata(issuer: str) -> dict:
    metadata = {
        "spec_version": SPEC_VERSION,
        "issuer": issuer,
        "jwks_uri": issuer + OAUTH_PATHS["jwks_uri"],
        "delivery_methods_supported": [PUSH, POLL],
    }
    metadata.update({name: issuer + path for name, path in PATHS.items()})
    metadata.update(
        {
            "authorization_schemes": AUTHORIZATION_SCHEMES,
            "default_subjects": "ALL",
        }
    )
    return metadata
