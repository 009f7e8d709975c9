"""oidcc-basic-certification-test-plan:
``oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported``
(OP-request_uri-Unsigned).

The request's parameters in an unsigned request object that the client publishes
at an https ``request_uri`` of its own (OIDC Core §6.2). This provider fetches no
request objects, so the client gets ``request_uri_not_supported`` (§3.1.2.6) and
no code, and nothing is fetched from the URI. (A ``request_uri`` that the
provider itself issued, as pushed authorization requests do, is another matter;
this one is an ordinary URL of the client's.)
"""

from __future__ import annotations

from unittest.mock import patch

import requests


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
    suite, rp, logged_in
):
    inside = suite.request(rp)
    outside = {k: inside[k] for k in ("response_type", "client_id", "scope", "redirect_uri")}
    with patch.object(requests.Session, "send", side_effect=AssertionError("fetched")):
        error = suite.error(
            rp,
            {"request_uri_not_supported"},
            **outside,
            state=None,
            nonce=None,
            request_uri="https://partner.example/requests/8f1c.jwt#5c3a",
        )
    assert error == "request_uri_not_supported"
