"""The registration service's refusals as form messages, in the developer's language.

The service names the metadata field at fault (RFC 7591 names); the portal
shows the message next to the form field it came from. A message the portal
does not know word for word gets its field's general rule instead, in the
developer's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Service field -> the portal form's field (the others are named alike).
FORM_FIELDS = {
    "scope": "purposes",
    "grant_types": "token_endpoint_auth_method",
    "grace": "grace_hours",
}

MESSAGES = {
    "A client needs a name of up to 200 characters.": _l(
        "A client needs a name of up to 200 characters."
    ),
    "Register at least one redirect URI.": _l("Register at least one redirect URI."),
    "Register at most 20 URIs.": _l("Register at most 20 URIs."),
    "Each redirect URI must be absolute and without a fragment.": _l(
        "Each redirect URI must be absolute and without a fragment."
    ),
    "A redirect URI holds no spaces.": _l("A redirect URI holds no spaces."),
    "A redirect URI needs a host.": _l("A redirect URI needs a host."),
    "Plain http redirect URIs are allowed for loopback only.": _l(
        "Plain http redirect URIs are allowed for loopback only."
    ),
    "Use https, loopback http or a reverse-DNS private scheme.": _l(
        "Use https, loopback http or a reverse-DNS private scheme."
    ),
    "The logo is shown to members, so it is served over https.": _l(
        "The logo is shown to members, so it is served over https."
    ),
    "Give jwks or jwks_uri, not both.": _l("Give the public keys or their URL, not both."),
    "private_key_jwt needs jwks or jwks_uri.": _l(
        "private_key_jwt needs the public keys or their URL."
    ),
    "Redirect URIs on several hosts need a sector_identifier_uri.": _l(
        "Redirect URIs on several hosts need a sector identifier URI."
    ),
    "The sector_identifier_uri could not be fetched.": _l(
        "The sector identifier URI could not be fetched."
    ),
    "This client does not authenticate with a secret.": _l(
        "This client does not authenticate with a secret."
    ),
    "This client is approved already.": _l("This client is approved already."),
    "A partner needs a name of up to 200 characters.": _l(
        "A partner needs a name of up to 200 characters."
    ),
    "Enter an email address.": _l("Enter an email address."),
    "This partner has sent as many invitations as it may today.": _l(
        "This partner has sent as many invitations as it may today."
    ),
    "This invitation link is not valid.": _l("This invitation link is not valid."),
    "This invitation has been used already.": _l("This invitation has been used already."),
    "This invitation has expired. Ask for a new one.": _l(
        "This invitation has expired. Ask for a new one."
    ),
    "This invitation is for another email address. Log in with that address.": _l(
        "This invitation is for another email address. Log in with that address."
    ),
}

#: Each field's rule, for a message that carries details (a count, a URL, a key type).
FIELD_RULES = {
    "redirect_uris": _l("Each redirect URI is exact: https, or http for loopback only."),
    "post_logout_redirect_uris": _l(
        "Each post-logout redirect URI is exact: https, or http for loopback only."
    ),
    "access_token_ttl": _l("Give a whole number of seconds from 1 to 315360000 (10 years)."),
    "grant_ttl": _l("Give a whole number of seconds from 1 to 315360000 (10 years)."),
    "jwks": _l(
        "The public keys are a JWK set of RSA (2048 bits or more) or EC P-256 signing keys, "
        "public parts only."
    ),
    "sector_identifier_uri": _l(
        "The sector identifier URI is an https URL holding a JSON array that lists every "
        "redirect URI, and the client's sector stays the same."
    ),
    "grace_hours": _l("Give a whole number of hours from 0 to 168 (7 days)."),
}
URL_RULE = _l("Enter an https URL (http only for loopback), without a fragment.")
URL_FIELDS = (
    "logo_uri",
    "jwks_uri",
    "policy_uri",
    "tos_uri",
    "backchannel_logout_uri",
    "security_event_uri",
)


def form_field(service_field: str | None) -> str | None:
    return FORM_FIELDS.get(service_field, service_field)


def message_for(message: str, field: str | None) -> str:
    if message in MESSAGES:
        return str(MESSAGES[message])
    if field in FIELD_RULES:
        return str(FIELD_RULES[field])
    if field in URL_FIELDS:
        return str(URL_RULE)
    return message
