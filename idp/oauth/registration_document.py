"""Client metadata as JSON (RFC 7591 §2, OIDC Registration §2), read and written.

``read_metadata`` turns a request body into a ``ClientRequest``, checking the
JSON types of the fields it knows; the rules are the service's. Metadata it
does not know is ignored (RFC 7591 §2); metadata only Miles & More sets
(``approved``, ``first_party``, a ``public`` subject type) is refused.
``client_document`` is the client as the registration response and RFC 7592
GET show it.
"""

from __future__ import annotations

import json

from idp.catalog import BASE_SCOPES, scopes_of_purposes
from idp.models import Client
from idp.request_text import is_text
from idp.services.client_metadata import ClientRequest
from idp.services.errors import InvalidInput

STRINGS = (
    "client_name",
    "scope",
    "token_endpoint_auth_method",
    "logo_uri",
    "client_uri",
    "policy_uri",
    "tos_uri",
    "jwks_uri",
    "sector_identifier_uri",
    "backchannel_logout_uri",
    "security_event_uri",
    "id_token_signed_response_alg",
    "subject_type",
)
STRING_LISTS = (
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "response_types",
    "purposes",
)
INTEGERS = ("access_token_ttl", "grant_ttl")
#: Metadata a partner cannot set: approval and first-party status are Miles & More's.
OPERATOR_ONLY = ("approved", "first_party", "approved_at")
#: Values a registration needs no more than this deep (a JWK set is three levels).
MAX_DEPTH = 6


def parse_body(data: bytes) -> dict:
    """The request body as one JSON object, or ``invalid_client_metadata``."""
    if _nested_deeper_than(data, MAX_DEPTH + 1):
        # Refused before parsing: the parser would recurse once per level.
        raise InvalidInput("The metadata is nested too deeply.", "body")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("The body is not JSON.", "body") from exc
    if not isinstance(document, dict):
        raise InvalidInput("The body is one JSON object of client metadata.", "body")
    _check_text(document, 0)
    return document


def _nested_deeper_than(data: bytes, limit: int) -> bool:
    """Whether arrays and objects in ``data`` nest deeper than ``limit`` (strings skipped)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _check_text(value, depth: int) -> None:
    """Every string (and member name) can be stored: no NUL, no lone surrogate."""
    if depth > MAX_DEPTH:
        raise InvalidInput("The metadata is nested too deeply.", "body")
    if isinstance(value, str) and not is_text(value):
        raise InvalidInput("The metadata holds a character that is not text.", "body")
    if isinstance(value, dict):
        for name, member in value.items():
            _check_text(name, depth)
            _check_text(member, depth + 1)
    elif isinstance(value, list):
        for member in value:
            _check_text(member, depth + 1)


def read_metadata(document: dict) -> ClientRequest:
    """The ``ClientRequest`` a registration (or an RFC 7592 PUT) document describes."""
    for name in OPERATOR_ONLY:
        if document.get(name) not in (None, False):
            raise InvalidInput(f"Only Miles & More sets {name}.", name)
    if document.get("subject_type", "pairwise") != "pairwise":
        raise InvalidInput("Partner clients get pairwise subject identifiers.", "subject_type")
    values = {name: _string(document, name) for name in STRINGS}
    lists = {name: _string_list(document, name) for name in STRING_LISTS}
    for name in INTEGERS:
        if name in document and (type(document[name]) is not int):
            raise InvalidInput(f"{name} is a whole number of seconds.", name)
    session_required = document.get("backchannel_logout_session_required", True)
    # RFC 9126 §6 and RFC 9449 §5.2: false when absent (or null).
    require_par = document.get("require_pushed_authorization_requests")
    require_par = False if require_par is None else require_par
    dpop_bound = document.get("dpop_bound_access_tokens")
    dpop_bound = False if dpop_bound is None else dpop_bound
    for name, value in (
        ("backchannel_logout_session_required", session_required),
        ("require_pushed_authorization_requests", require_par),
        ("dpop_bound_access_tokens", dpop_bound),
    ):
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} is true or false.", name)
    jwks = document.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise InvalidInput("jwks is a JWK set object.", "jwks")
    _check_response_types(lists["response_types"], lists["grant_types"])
    # RFC 7591 §2: a client that names no grant type uses only the authorization code.
    grant_types = lists["grant_types"] if lists["grant_types"] is not None else ["authorization_code"]
    purposes = lists["purposes"]
    scope = values["scope"]
    if scope is None:
        # RFC 7591 §2: the server picks a default: openid and the declared purposes'
        # scopes (offline_access only when asked for).
        wanted = scopes_of_purposes(purposes or []) - set(BASE_SCOPES)
        scope = " ".join(["openid", *sorted(wanted)])
    request = ClientRequest(
        partner_id="",
        client_name=values["client_name"] or "",
        redirect_uris=lists["redirect_uris"] or [],
        scope=scope,
        purposes=purposes,
        post_logout_redirect_uris=lists["post_logout_redirect_uris"] or [],
        grant_types=grant_types,
        jwks=jwks,
        backchannel_logout_session_required=session_required,
        require_pushed_authorization_requests=require_par,
        dpop_bound_access_tokens=dpop_bound,
    )
    for name in STRINGS:
        if name not in ("client_name", "scope", "subject_type") and values[name] is not None:
            setattr(request, name, values[name])
    for name in INTEGERS:
        if name in document:
            setattr(request, name, document[name])
    if request.token_endpoint_auth_method == "none":
        request.public = True
    return request


def _string(document: dict, name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} is a string.", name)
    return value


def _string_list(document: dict, name: str) -> list[str] | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{name} is an array of strings.", name)
    return value


def _check_response_types(response_types, grant_types) -> None:
    """RFC 7591 §2.1: only ``code``, and only together with the authorization code grant."""
    if response_types is None:
        return
    if any(r != "code" for r in response_types):
        raise InvalidInput("The only response type is code.", "response_types")
    grants = grant_types if grant_types is not None else ["authorization_code"]
    if bool(response_types) != ("authorization_code" in grants):
        raise InvalidInput(
            "response_types code goes with grant_types authorization_code.", "response_types"
        )


#: Stored metadata the documents show, as RFC 7591 and OIDC Registration name it.
SHOWN = (
    "client_name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scope",
    "purposes",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "id_token_signed_response_alg",
    "subject_type",
    "access_token_ttl",
    "grant_ttl",
    "jwks",
    "jwks_uri",
    "sector_identifier_uri",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "dpop_bound_access_tokens",
    "security_event_uri",
    "logo_uri",
    "client_uri",
    "policy_uri",
    "tos_uri",
    "require_pushed_authorization_requests",
)


def client_document(
    client: Client,
    client_uri: str,
    *,
    client_secret: str | None = None,
    registration_access_token: str | None = None,
) -> dict:
    """RFC 7591 §3.2.1 / RFC 7592 §3: the client's metadata, and secrets just issued."""
    document = {name: getattr(client, name) for name in SHOWN if getattr(client, name) is not None}
    document["client_id"] = client.client_id
    document["client_id_issued_at"] = int(client.created_at.timestamp())
    document["registration_client_uri"] = client_uri
    if client_secret is not None:
        document["client_secret"] = client_secret
        document["client_secret_expires_at"] = 0  # never
    if registration_access_token is not None:
        document["registration_access_token"] = registration_access_token
    return document
