"""oidcc-basic-certification-test-plan: ``oidcc-idtoken-signature`` (OP-IDToken-Signature,
OP-IDToken-kid).

A client that registered no ID token algorithm gets RS256 (OIDC Core §3.1.3.7),
with a ``kid`` in the header naming a key of the JWKS (§10.1) that verifies the
signature; the same token with one payload byte changed does not verify.
"""

from __future__ import annotations

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError

from tests.conformance import checks


def test_oidcc_idtoken_signature(suite, rp, logged_in):
    flow = suite.run(rp)
    header = flow.id_token.header
    assert header["alg"] == "RS256" and header["kid"]
    key = suite.keys().get_by_kid(header["kid"])
    assert key.key_type == "RSA"

    head, payload, signature = flow.tokens["id_token"].split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(f"{head}.{tampered}.{signature}", key, algorithms=["RS256"])
    with pytest.raises(BadSignatureError):
        checks.verify_id_token(
            f"{head}.{tampered}.{signature}",
            suite.keys(),
            issuer=suite.issuer,
            client_id=rp.client_id,
            nonce=flow.sent["nonce"],
        )
