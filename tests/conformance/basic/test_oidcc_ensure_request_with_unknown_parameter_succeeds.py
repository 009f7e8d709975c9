"""oidcc-basic-certification-test-plan: ``oidcc-ensure-request-with-unknown-parameter-succeeds``
(OP-Req-NotUnderstood).

``extra=foobar``, defined by no specification, is ignored (RFC 6749 §3.1): the
flow succeeds as without it.
"""

from __future__ import annotations


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(suite, rp, logged_in):
    flow = suite.run(rp, extra="foobar")
    assert "extra" not in flow.params and "extra" not in flow.id_token.claims
