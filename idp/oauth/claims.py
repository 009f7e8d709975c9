"""Member claims per scope (SPEC.md §2), for UserInfo and the ID token.

A claim is released only when its scope was granted, or when the member granted
that claim by itself after the ``claims`` parameter (OIDC Core §5.5) asked for
it (``idp.services.consent.covered_claims``); empty values are left out rather
than sent as null (OIDC Core §5.3.2).
"""

from __future__ import annotations

from idp.catalog import SCOPE_CLAIMS
from idp.models import Member
from idp.services.linked_profiles import profiles_of

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
    """``lhg_profiles``: the member's linked profiles, read when the scope was granted;
    an empty list (not left out) when nothing is linked, as INTERFACE.md says."""
    return [{"airline": p.airline, "profile_id": p.subject} for p in profiles_of(member.id)]


def _phone_number_verified(member) -> bool | None:
    return member.phone_number_verified if member.phone_number else None


def _attribute(name: str):
    return lambda member: getattr(member, name)


#: Claims that are the member attribute of the same name.
_ATTRIBUTE_CLAIMS = (
    "name", "given_name", "family_name", "gender", "birthdate", "locale", "academic_title",
    "email", "email_verified", "phone_number", "card_number", "status_tier", "status_miles",
    "miles_balance",
)  # fmt: skip
#: Claim name -> how it is read from a member; each is read only when released, so a
#: member loaded with its columns still encrypted (UserInfo) decrypts only those.
CLAIM_READERS = {
    **{name: _attribute(name) for name in _ATTRIBUTE_CLAIMS},
    "phone_number_verified": _phone_number_verified,
    "address": _address,
    "lhg_profiles": _linked_profiles,
}


def requested_claims(claims_request: dict | None, target: str) -> set[str] | None:
    """Claim names the OIDC ``claims`` parameter asks for in ``id_token`` or ``userinfo``.

    None when the parameter does not address ``target`` at all.
    """
    if not claims_request or target not in claims_request:
        return None
    return set(claims_request[target])


def claims_for_scopes(
    member: Member, scopes, subject: str, only: set[str] | None = None, also=()
) -> dict:
    """``sub`` plus every non-empty claim of the granted ``scopes`` and the claims ``also``
    granted by themselves (limited to ``only``).

    ``member`` is a ``Member`` row or a ``token_lookup.MemberClaims``; only the claims
    released are read from it.
    """
    wanted = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}
    wanted |= set(also)
    if only is not None:
        wanted &= only
    claims = {"sub": subject}
    for name in sorted(wanted - {"sub"}):
        reader = CLAIM_READERS.get(name)
        value = reader(member) if reader is not None else None
        if value is None or value == "":
            continue
        claims[name] = value
    return claims
