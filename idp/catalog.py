"""The data catalogue: scopes, the claims they release, and the purposes asking for them.

Taken from SPEC.md §2 and §3, which take them from the programme's privacy
policy: basic data, card number, status data and programme data; the purposes
of "Login with Miles & More" with their legal bases under the GDPR.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Scopes that release member data, with the claims each one releases (SPEC.md §2).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": (
        "name",
        "given_name",
        "family_name",
        "gender",
        "birthdate",
        "locale",
        "academic_title",
    ),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
    "card_number": ("card_number",),
    "status": ("status_tier", "status_miles"),
    "miles": ("miles_balance",),
    "lhg_profiles": ("lhg_profiles",),
    "offline_access": (),
}

#: Scopes a confidential client asks for itself with the client credentials grant
#: (RFC 6749 §4.4): they name no member and release no member data, only let the
#: client use a service of the provider about its own registration. Each is
#: registered here by the feature it opens (scope -> what it allows).
CLIENT_SCOPES: dict[str, str] = {
    # OpenID Shared Signals Framework 1.0 §8: the client's own stream.
    "ssf.manage": "configure, verify and change the status of the client's Shared Signals stream",
    "ssf.read": "read the client's Shared Signals stream and poll its events",
    # Grant Management for OAuth 2.0 §6.1: the grants the client holds.
    "grant_management_query": "read a grant the client holds (idp.oauth.grant_management)",
    "grant_management_revoke": "end a grant the client holds, as a withdrawal",
}

#: The data category of the seeds each data scope belongs to (SPEC.md §2); ``openid``
#: (an identifier) and ``offline_access`` (an access key) release no member data.
SCOPE_DATA_CATEGORIES: dict[str, str] = {
    "profile": "basic_data",
    "email": "basic_data",
    "phone": "basic_data",
    "address": "basic_data",
    "card_number": "card_number",
    "status": "status_data",
    "miles": "programme_data",
    "lhg_profiles": "linked_profiles",
}

#: Scopes every client may ask for, whatever its purposes.
BASE_SCOPES = ("openid", "offline_access")

#: Scopes of the grant management API (Grant Management for OAuth 2.0 §6.1). They name
#: no member data: a confidential client registered for them asks for them in a client
#: credentials token, never at the authorization endpoint, so no consent screen shows
#: them (``idp.oauth.grant_management``).
GRANT_MANAGEMENT_QUERY = "grant_management_query"
GRANT_MANAGEMENT_REVOKE = "grant_management_revoke"
#: Client scopes given only to a client registered for them (the portal's grant management
#: setting): they end members' grants.
REGISTERED_CLIENT_SCOPES = (GRANT_MANAGEMENT_QUERY, GRANT_MANAGEMENT_REVOKE)


@dataclass(frozen=True)
class Purpose:
    name: str
    legal_basis: str  # "contract" (Art. 6(1)(b) GDPR) or "consent" (Art. 6(1)(a) GDPR)
    article: str
    scopes: tuple[str, ...]


PURPOSES: dict[str, Purpose] = {
    "miles": Purpose("miles", "contract", "Art. 6(1)(b) GDPR", ("card_number", "miles", "status")),
    "registration": Purpose(
        "registration",
        "consent",
        "Art. 6(1)(a) GDPR",
        ("profile", "email", "phone", "address", "lhg_profiles"),
    ),
    "autofill": Purpose(
        "autofill", "consent", "Art. 6(1)(a) GDPR", ("profile", "email", "phone", "address")
    ),
}


#: The version of each purpose's consent text (its description, legal basis and
#: scope words on the consent screen). Change a version whenever the meaning of
#: that text changes: every member who agreed to an older version is asked again
#: at the next login.
CONSENT_TEXT_VERSIONS: dict[str, str] = {
    "miles": "miles-2026-11-01",
    "registration": "registration-2026-11-01",
    "autofill": "autofill-2026-11-01",
}


def scopes_of_purposes(purposes) -> set[str]:
    """Every scope a client with these purposes may ask for."""
    allowed = set(BASE_SCOPES)
    for name in purposes:
        allowed.update(PURPOSES[name].scopes)
    return allowed


def required_scopes(purposes) -> set[str]:
    """Scopes a contract purpose needs: shown without a checkbox on the consent screen."""
    return {
        scope
        for name in purposes
        if PURPOSES[name].legal_basis == "contract"
        for scope in PURPOSES[name].scopes
    }


def smallest_purposes_for(scopes) -> list[str]:
    """The smallest set of purposes whose scopes cover ``scopes`` (RFC 7591 default).

    Ties go to the purpose listed first in ``PURPOSES``; raises ``ValueError``
    when no set of purposes covers the scopes.
    """
    from itertools import combinations

    wanted = set(scopes) - set(BASE_SCOPES)
    names = list(PURPOSES)
    for size in range(len(names) + 1):
        for combo in combinations(names, size):
            if wanted <= scopes_of_purposes(combo):
                return list(combo)
    raise ValueError("no purpose covers these scopes")


def claims_for_scopes(scopes) -> set[str]:
    return {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}


#: Claim name -> the data scope releasing it (``sub`` is no member data).
_CLAIM_SCOPES = {
    claim: scope
    for scope, claims in SCOPE_CLAIMS.items()
    if scope in SCOPE_DATA_CATEGORIES
    for claim in claims
}


def scope_of_claim(name: str) -> str | None:
    """The data scope releasing the claim ``name``; None for ``sub`` and unknown claims."""
    return _CLAIM_SCOPES.get(name)


def data_scopes_of_claims(claims) -> set[str]:
    """The data scopes whose claims are among ``claims``: what a partner read of a member."""
    return {_CLAIM_SCOPES[name] for name in claims if name in _CLAIM_SCOPES}
