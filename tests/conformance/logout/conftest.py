"""Fixtures of the logout plans: the member logged in at the suite's client."""

from __future__ import annotations

import pytest

from tests.conformance.suite import Flow


@pytest.fixture
def signed_in(suite, rp, logged_in) -> Flow:
    """The plans' first step: a normal authorization, its ID token (with ``sid``)."""
    flow = suite.run(rp)
    assert flow.id_token.claims["sid"], "OIDC Back-Channel Logout §2.1: sid in the ID token"
    return flow
