"""oidcc-basic-certification-test-plan: ``oidcc-prompt-none-not-logged-in``
(OP-prompt-none-NotLoggedIn).

``prompt=none`` without a session: back to the client at once with an error that
asks for interaction (OIDC Core §3.1.2.6), and a long state (128 characters)
returned unchanged.
"""

from __future__ import annotations

import secrets

from tests.conformance import checks


def test_oidcc_prompt_none_not_logged_in(suite, rp):
    state = secrets.token_urlsafe(96)
    assert len(state) == 128
    error = suite.error(rp, checks.INTERACTION_ERRORS, prompt="none", state=state)
    assert error == "login_required"
