"""oidcc-basic-certification-test-plan: ``oidcc-response-type-missing`` (OP-Response-Missing).

An authorization request without ``response_type`` (RFC 6749 §3.1.1). The client
and redirect URI are valid, so the error goes back to the client: ``invalid_request``
or ``unsupported_response_type``, with its state and ``iss``, and no code.
"""

from __future__ import annotations


def test_oidcc_response_type_missing(suite, rp, logged_in):
    suite.error(rp, {"invalid_request", "unsupported_response_type"}, response_type=None)
