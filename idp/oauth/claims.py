"""Member claims per scope (SPEC.md §2), for UserInfo and the ID token.

A claim is released only when its scope was granted; empty values are left out
rather than sent as null (OIDC Core §5.3.2).
"""

from __future__ import annotations

from idp.catalog import SCOPE_CLAIMS
from idp.models import Member

#: The authentication context class we issue (OIDC Core §2 ``acr``): every member
#: login is two factors (a password and a one-time code or security key), so every
#: ID token carries this value and it is the only one in ``acr_values_supported``.
ACR_TWO_FACTOR = "urn:mam:acr:2fa"

#: Claims about the authentication itself, always in the ID token (OIDC Core §2).
ID_TOKEN_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "at_hash",
    "sid",
)


def _address(member: Member) -> dict | None:
    """OIDC Core §5.1.1 structured address."""
    if not member.address:
        return None
    fields = ("street_address", "locality", "region", "postal_code", "country")
    address = {k: member.address[k] for k in fields if member.address.get(k)}
    if address:
        lines = [
            address.get("street_address"),
            " ".join(p for p in (address.get("postal_code"), address.get("locality")) if p),
            address.get("region"),
            address.get("country"),
        ]
        address["formatted"] = "\n".join(line for line in lines if line)
    return address or None


def _linked_profiles(member: Member) -> list[dict]:
    profiles = getattr(member, "linked_profiles", None) or []
    return [{"airline": p.airline, "profile_id": p.subject} for p in profiles]


def _claim_values(member: Member) -> dict:
    return {
        "name": member.name,
        "given_name": member.given_name,
        "family_name": member.family_name,
        "gender": member.gender,
        "birthdate": member.birthdate,
        "locale": member.locale,
        "academic_title": member.academic_title,
        "email": member.email,
        "email_verified": member.email_verified,
        "phone_number": member.phone_number,
        "phone_number_verified": member.phone_number_verified if member.phone_number else None,
        "address": _address(member),
        "card_number": member.card_number,
        "status_tier": member.status_tier,
        "status_miles": member.status_miles,
        "miles_balance": member.miles_balance,
        "lhg_profiles": _linked_profiles(member),
    }


def requested_claims(claims_request: dict | None, target: str) -> set[str] | None:
    """Claim names the OIDC ``claims`` parameter asks for in ``id_token`` or ``userinfo``.

    None when the parameter does not address ``target`` at all.
    """
    if not claims_request or target not in claims_request:
        return None
    return set(claims_request[target])


def claims_for_scopes(member: Member, scopes, subject: str, only: set[str] | None = None) -> dict:
    """``sub`` plus every non-empty claim of the granted ``scopes`` (limited to ``only``)."""
    wanted = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}
    if only is not None:
        wanted &= only
    values = _claim_values(member)
    claims = {"sub": subject}
    for name in sorted(wanted - {"sub"}):
        value = values.get(name)
        if value is None or value == "":
            continue
        claims[name] = value
    return claims
