"""oidcc-basic-certification-test-plan:
``oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported``
(OP-request-Unsigned).

The request's parameters in an unsigned request object (``request``, OIDC Core
§6.1), with ``response_type``, ``client_id``, ``scope`` and ``redirect_uri`` also in
the query as the suite sends them; ``state`` and ``nonce`` only inside. This
provider does not take request objects, which discovery says
(``request_parameter_supported: false``), so the client gets
``request_not_supported`` (§3.1.2.6) and no code.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    suite, rp, logged_in
):
    assert suite.metadata()["request_parameter_supported"] is False
    inside = suite.request(rp)
    outside = {k: inside[k] for k in ("response_type", "client_id", "scope", "redirect_uri")}
    error = suite.error(
        rp,
        {"request_not_supported"},
        **outside,
        state=None,
        nonce=None,
        request=checks.unsigned_request_object(inside),
    )
    assert error == "request_not_supported"
