"""oidcc-basic-certification-test-plan: ``oidcc-ensure-registered-redirect-uri``
(OP-redirect_uri-NotReg).

A redirect URI that is the registered one with something appended is not
registered (exact matching, OIDC Core §3.1.2.1): the member sees an error page
and is redirected nowhere, neither to it nor to the registered one (RFC 6749
§4.1.2.1).
"""

from __future__ import annotations

import secrets

from tests.conformance import checks


def test_oidcc_ensure_registered_redirect_uri(suite, rp, logged_in):
    unregistered = rp.redirect_uri + "/" + secrets.token_hex(4)
    response = suite.send(suite.request(rp, redirect_uri=unregistered))
    checks.check_error_page(response)
