"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-discovery-endpoint-verification``.

Discovery names an https ``end_session_endpoint`` (RP-Initiated Logout 1.0 §2.1),
and every endpoint it names is https.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(discovery):
    metadata = checks.check_discovery_response(discovery(checks.DISCOVERY_PATH))
    checks.check_https_url(metadata["end_session_endpoint"])
    checks.check_endpoints_are_https(metadata)
