"""The words for each scope, claim, purpose, legal basis and partner category.

The consent screen asks with them and the account's connected apps show what
was granted with the same words. Plain words a member understands without
knowing OAuth; translated like every other string of the provider.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SCOPE_TEXTS = {
    "openid": _l("An identifier that lets the partner recognise you when you come back"),
    "profile": _l("Your name, gender, date of birth, academic title and preferred language"),
    "email": _l("Your email address"),
    "phone": _l("Your phone number"),
    "address": _l("Your postal address"),
    "card_number": _l("Your Miles & More card number"),
    "status": _l("Your status level and status miles"),
    "miles": _l("Your miles balance"),
    "lhg_profiles": _l("Your linked Lufthansa Group profiles (airline and profile ID)"),
    "offline_access": _l("The partner may also use this data while you are not on its website"),
}

#: One claim asked for by itself (the OIDC ``claims`` parameter), as one consent item.
CLAIM_TEXTS = {
    "name": _l("Your full name"),
    "given_name": _l("Your first name"),
    "family_name": _l("Your last name"),
    "gender": _l("Your gender"),
    "birthdate": _l("Your date of birth"),
    "locale": _l("Your preferred language"),
    "academic_title": _l("Your academic title"),
    "email": SCOPE_TEXTS["email"],
    "email_verified": _l("Whether your email address is confirmed"),
    "phone_number": SCOPE_TEXTS["phone"],
    "phone_number_verified": _l("Whether your phone number is confirmed"),
    "address": SCOPE_TEXTS["address"],
    "card_number": SCOPE_TEXTS["card_number"],
    "status_tier": _l("Your status level"),
    "status_miles": _l("Your status miles"),
    "miles_balance": SCOPE_TEXTS["miles"],
    "lhg_profiles": SCOPE_TEXTS["lhg_profiles"],
}

PURPOSE_TEXTS = {
    "miles": _l("Collecting and redeeming miles"),
    "registration": _l("Registration on the partner's website"),
    "autofill": _l("Filling in forms on the partner's website"),
}

LEGAL_BASIS_TEXTS = {
    "contract": _l("Needed for your Miles & More contract (Art. 6(1)(b) GDPR)"),
    "consent": _l("Based on your consent (Art. 6(1)(a) GDPR)"),
}

CATEGORY_TEXTS = {
    "lhg_airline": _l("Lufthansa Group airline"),
    "co_issuer": _l("Co-operating partner of Miles & More"),
    "partner_company": _l("Miles & More partner company"),
}
