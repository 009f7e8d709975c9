"""oidcc-basic-certification-test-plan: ``oidcc-prompt-none-logged-in`` (OP-prompt-none-LoggedIn).

A first authorization, then a second with ``prompt=none``: the code comes back at
once, without any page, and the second ID token names the same ``sub`` and
``auth_time``.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_prompt_none_logged_in(suite, rp, logged_in):
    first = suite.run(rp)
    second = suite.run(rp, prompt="none")
    checks.check_same_authentication(first.id_token, second.id_token)
