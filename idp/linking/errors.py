"""Why an exchange with an airline's ID service failed, as the member's page names it."""

from __future__ import annotations

#: Kinds of failure. Each is shown as its own message; none stores anything.
KINDS = (
    "access_denied",  # the member said no at the airline (RFC 6749 §4.1.2.1)
    "upstream_error",  # any other error the airline answered with
    "unreachable",  # no connection to the airline's ID service
    "timeout",  # it did not answer in time
    "invalid_response",  # it answered, but not with what OpenID Connect prescribes
    "wrong_issuer",  # a response or token from another issuer (mix-up, RFC 9207)
    "bad_signature",  # the ID token's signature does not verify, or names an unknown key
    "invalid_id_token",  # audience, times or subject of the ID token do not hold
    "wrong_nonce",  # the ID token answers another request
    "state",  # the request is unknown, used, expired, or of another browser or session
)


class UpstreamError(Exception):
    """An exchange with an upstream failed; ``kind`` is one of ``KINDS``."""

    def __init__(self, kind: str, detail: str = ""):
        assert kind in KINDS, kind
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        #: For the audit log: short, never a token or a code.
        self.detail = detail[:200]
