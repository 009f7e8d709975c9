"""Claim-level consent: claims asked for only through the OIDC ``claims`` parameter.

A claim the ``claims`` parameter (OIDC Core §5.5) asks for, in ``id_token`` or
``userinfo``, whose scope the request does not ask for, is an item of its own
on the consent screen (``claim_items``): optional, essential or not (§5.5.1:
essential is a hint, the member may still decline). Granting it grants
exactly that claim, not its whole scope: the member saw and ticked that one
piece of data, and the partner receives exactly the data the member agreed
to. The consent keeps such claims in ``granted_claims``, the unticked ones in
``declined_claims`` (not asked again unless ``prompt=consent``), and every
consent record keeps both as evidence.

``covered_claims`` is the claims' half of every check, as
``consent.covered_scopes`` is the scopes': a claim is covered when granted by
itself or released by a data scope the consent grants. The claim-level grant
is read from the consent on every use, so Stop sharing ends it at once.
"""

from __future__ import annotations

from idp.catalog import SCOPE_DATA_CATEGORIES, claims_for_scopes, scope_of_claim
from idp.models import Client


def claims_of_scopes(scopes) -> set[str]:
    """The claims the data scopes among ``scopes`` release (``sub`` is no member data)."""
    return claims_for_scopes(s for s in scopes if s in SCOPE_DATA_CATEGORIES)


def covered_claims(consent, names) -> set[str]:
    """Of the claim ``names``, those the consent covers: granted one by one, or released
    by a data scope it grants. ``consent`` is a ``Consent`` or a token's ``ConsentState``."""
    if consent is None:
        return set()
    allowed = set(consent.granted_claims or ()) | claims_of_scopes(consent.scopes)
    return {name for name in names if name in allowed}


def claim_items(client: Client, requested, claims_request: dict | None) -> tuple[str, ...]:
    """Claims the OIDC ``claims`` parameter (§5.5) asks for as items of their own.

    Member data in either target (``id_token``, ``userinfo``), essential or not,
    whose scope the client registered but the request does not ask for; in the
    order asked, each once. ``sub``, ``acr`` and ``auth_time`` are no member data,
    and a claim of a scope the client may not ask for is neither offered nor released.
    """
    if not claims_request:
        return ()
    registered, asked = set(client.scopes), set(requested)
    names = [
        name
        for target in ("id_token", "userinfo")
        for name in (claims_request.get(target) or {})
        if (scope := scope_of_claim(name)) in registered and scope not in asked
    ]
    return tuple(dict.fromkeys(names))
