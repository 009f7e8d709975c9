"""oidcc-basic-certification-test-plan: ``oidcc-prompt-login`` (OP-prompt-login).

A first authorization, then a second with ``prompt=login``: the member, although
logged in, is sent to log in again (OIDC Core §3.1.2.1), and the second ID token
has the same ``sub`` and a later ``auth_time``.
"""

from __future__ import annotations

from datetime import timedelta

from idp.models.types import utcnow
from tests.conformance import checks


def test_oidcc_prompt_login(suite, rp, member_id):
    suite.login(member_id, auth_time=utcnow() - timedelta(minutes=5))
    first = suite.run(rp)
    second = suite.again(rp, member_id, prompt="login")
    checks.check_new_authentication(first.id_token, second.id_token)
