"""Who is asking: the receiver's client, from its client credentials access token.

SSF 1.0 §7.1.1 leaves the scheme to the transmitter; this one takes an RFC 6750
bearer token issued by the client credentials grant with the client scope
``ssf.manage`` (every operation) or ``ssf.read`` (reading and polling). A token
issued for a member never manages a stream. Failures are RFC 6750 §3
challenges: 401 ``invalid_token``, 403 ``insufficient_scope``.
"""

from __future__ import annotations

from idp.extensions import db
from idp.models import Client
from idp.oauth.resource import BearerError, authenticate, granted_scopes

MANAGE = "ssf.manage"
READ = "ssf.read"


def receiver_client(write: bool) -> Client:
    """The client behind this request's token; raises ``BearerError``."""
    token = authenticate(None, member=False)
    if token.member_id is not None:
        raise BearerError(401, "invalid_token", "Use a client credentials access token.")
    granted = granted_scopes(token)
    if MANAGE not in granted and (write or READ not in granted):
        needed = MANAGE if write else f"{READ} or {MANAGE}"
        raise BearerError(
            403,
            "insufficient_scope",
            f"The access token does not grant {needed}.",
            MANAGE if write else READ,
        )
    client = db.session.get(Client, token.client_id)
    if client is None or client.suspended:
        raise BearerError(401, "invalid_token", "The client of this token cannot be used.")
    return client
