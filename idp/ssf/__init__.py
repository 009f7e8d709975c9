"""The Shared Signals transmitter (OpenID SSF 1.0) for partners' receivers.

``/.well-known/ssf-configuration`` (SSF §7) names the stream management
endpoints (§8): configuration, status, verification, and the RFC 8936 poll
endpoint. Receivers are the partners' confidential clients and authenticate
with a client credentials access token (RFC 6749 §4.4) carrying ``ssf.manage``
(everything) or ``ssf.read`` (read the stream and its status, poll); the
transmitter metadata says so in ``authorization_schemes`` (``urn:ietf:rfc:6749``).
Every answer is JSON; errors are ``{"error", "error_description"}``, 4xx.
Rate limited like every protocol endpoint; no CSRF (no cookie is read).
"""

from flask import Blueprint

from idp.extensions import limiter
from idp.web.limits import api_rate_limit

blueprint = Blueprint("ssf", __name__)
limiter.limit(api_rate_limit)(blueprint)

from idp.ssf import configuration, streams  # noqa: E402,F401  (registers the routes)
