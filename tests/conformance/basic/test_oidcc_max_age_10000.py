"""oidcc-basic-certification-test-plan: ``oidcc-max-age-10000`` (OP-Req-max_age=10000).

A first authorization with ``max_age=15000``, then a second with ``max_age=10000``
while the login is recent: no new login, and both ID tokens carry ``auth_time``
(required with ``max_age``), the same one, for the same ``sub``.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_max_age_10000(suite, rp, logged_in):
    first = suite.run(rp, max_age="15000")
    second = suite.run(rp, max_age="10000")
    assert "auth_time" in first.id_token.claims and "auth_time" in second.id_token.claims
    checks.check_same_authentication(first.id_token, second.id_token)
