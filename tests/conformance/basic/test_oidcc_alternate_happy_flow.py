"""oidcc-basic-certification-test-plan: ``oidcc-alternate-happy-flow`` (called
``oidcc-ensure-other-scope-order-succeeds`` in earlier versions of the plan).

The happy flow of ``oidcc-scope-email`` with the scope values reversed and the
query parameters in another order: order does not matter (RFC 6749 §3.3), the
flow and the released claims are the same.
"""

from __future__ import annotations

from tests.conformance import checks
from tests.conformance.suite import Flow


def test_oidcc_alternate_happy_flow(suite, rp, logged_in):
    sent = suite.request(rp, scope="email openid")
    reordered = dict(reversed(list(sent.items())))
    assert list(reordered) != list(sent)
    flow = suite.callback(Flow(sent=reordered), suite.follow(suite.send(reordered)))
    claims = suite.userinfo(suite.exchange(rp, flow))
    checks.check_scope_claims(claims, "openid email", {"email", "email_verified"})
