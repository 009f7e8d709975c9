"""oidcc-rp-initiated-logout-certification-test-plan:
``oidcc-rp-initiated-logout-discovery-endpoint-verification``.

Discovery names an https ``end_session_endpoint`` (RP-Initiated Logout 1.0 §2.1),
and every endpoint it names is https.
"""

from __future__ import annotations

from tests.conformance import metadata_checks


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(discovery):
    metadata = metadata_checks.check_discovery_response(discovery(metadata_checks.DISCOVERY_PATH))
    metadata_checks.check_https_url(metadata["end_session_endpoint"])
    metadata_checks.check_endpoints_are_https(metadata)
