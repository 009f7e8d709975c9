"""oidcc-backchannel-rp-initiated-logout-certification-test-plan:
``oidcc-backchannel-logout-discovery-endpoint-verification``.

Discovery says ``backchannel_logout_supported`` and
``backchannel_logout_session_supported`` are true (Back-Channel Logout 1.0 §2.1;
certification requires ``sid``), and names an https ``end_session_endpoint``;
every endpoint it names is https.
"""

from __future__ import annotations

from tests.conformance import metadata_checks


def test_oidcc_backchannel_logout_discovery_endpoint_verification(discovery):
    metadata = metadata_checks.check_discovery_response(discovery(metadata_checks.DISCOVERY_PATH))
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    metadata_checks.check_https_url(metadata["end_session_endpoint"])
    metadata_checks.check_endpoints_are_https(metadata)
