"""ID tokens (OIDC Core §2, §3.1.3.6), signed with the client's registered algorithm.

RS256 unless the client registered ES256. Member claims of the granted scopes
go to UserInfo by default; they enter the ID token only when the ``claims``
parameter asks for them there (§5.4, §5.5), and never beyond what the member's
consent covers (the granted scopes, and claims granted by themselves:
``consent_claims.covered_claims``); those released are counted as read by the
partner in the issuing transaction (``consent_usage.count_read``).
``azp`` is left out: the audience is always the one client that asked.
"""

from __future__ import annotations

import time

from authlib.oidc.core.util import create_half_hash
from flask import current_app

from idp.models import Client, Consent, Member
from idp.oauth.claims import ACR_TWO_FACTOR, claims_for_scopes, requested_claims
from idp.services import consent_claims, consent_usage, signing_keys
from idp.services.issuance import Authentication
from idp.services.subjects import subject_for

#: ID tokens expire with the longest lifetime the JWKS keeps a retired key for.
ID_TOKEN_LIFETIME = int(signing_keys.LONGEST_SIGNED_LIFETIME.total_seconds())


def issue_id_token(
    client: Client,
    member: Member,
    scope: str,
    authentication: Authentication,
    access_token: str,
    nonce: str | None = None,
    claims_request: dict | None = None,
    consent: Consent | None = None,
) -> str:
    """The signed ID token for ``access_token``; an ``IdTokenSigner`` of
    ``idp.services.issuance``."""
    alg = client.id_token_signed_response_alg or "RS256"
    now = int(time.time())
    subject = subject_for(member, client)
    claims: dict = {
        "iss": current_app.config["IDP"].issuer,
        "sub": subject,
        "aud": client.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "acr": authentication.acr or ACR_TWO_FACTOR,
        "at_hash": create_half_hash(access_token, alg).decode("ascii"),
    }
    if authentication.auth_time is not None:
        claims["auth_time"] = int(authentication.auth_time.timestamp())
    if authentication.amr:
        claims["amr"] = list(authentication.amr)
    if authentication.sid:
        claims["sid"] = authentication.sid
    if nonce:
        claims["nonce"] = nonce
    wanted = requested_claims(claims_request, "id_token")
    if wanted:
        also = consent_claims.covered_claims(consent, wanted)
        member_claims = claims_for_scopes(member, scope.split(), subject, only=wanted, also=also)
        member_claims.pop("sub", None)
        claims.update(member_claims)
        consent_usage.count_read(member.id, client.partner_id, member_claims)
    return signing_keys.sign(claims, alg=alg)
