"""oidcc-basic-certification-test-plan: ``oidcc-ensure-request-object-with-redirect-uri``.

A request object (by value, unsigned) holds the registered redirect URI, the
query an unregistered one. A provider that takes request objects must use the
one inside (OIDC Core §6.1); one that does not, like this one, must not redirect
to the one outside: the member sees an error page, and nothing goes to either URI.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_ensure_request_object_with_redirect_uri(suite, rp, logged_in):
    inside = suite.request(rp)
    outside = {k: inside[k] for k in ("response_type", "client_id", "scope")}
    outside["redirect_uri"] = "https://partner.example/not-registered"
    outside["request"] = checks.unsigned_request_object(inside)
    checks.check_error_page(suite.send(outside))
