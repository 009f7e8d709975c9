"""oidcc-basic-certification-test-plan: ``oidcc-max-age-1`` (OP-Req-max_age=1).

A first authorization, then, more than a second later, one with ``max_age=1``:
the member must log in again (OIDC Core §3.1.2.1), and the second ID token has
an ``auth_time`` (required with ``max_age``) that is later than the first and
recent.
"""

from __future__ import annotations

from datetime import timedelta

from idp.models.types import utcnow
from tests.conformance import checks


def test_oidcc_max_age_1(suite, rp, member_id):
    # The first login two seconds ago instead of waiting two seconds.
    suite.login(member_id, auth_time=utcnow() - timedelta(seconds=2))
    first = suite.run(rp)
    second = suite.again(rp, member_id, max_age="1")
    assert "auth_time" in second.id_token.claims
    checks.check_new_authentication(first.id_token, second.id_token)
    suite.rp_library_accepts(rp, second)
