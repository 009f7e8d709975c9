"""The rules for a client's metadata, the same whichever door it comes through.

The developer portal, RFC 7591/7592 and ``mam-idp clients`` all describe a
client as a ``ClientRequest``; ``validate`` checks it and returns the column
values to store, or raises ``InvalidInput`` naming the metadata field at fault
(``redirect_uris``, ``scope``, ... as RFC 7591 §2 and OIDC Registration §2 name
them). Only the operator's doors may set ``approved`` and ``first_party``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlsplit

from idp import defaults
from idp.catalog import (
    CLIENT_SCOPES,
    PURPOSES,
    REGISTERED_CLIENT_SCOPES,
    SCOPE_CLAIMS,
    scopes_of_purposes,
    smallest_purposes_for,
)
from idp.config_checks import LOOPBACK_HOSTS
from idp.models.client import TOKEN_ENDPOINT_AUTH_METHODS
from idp.services.client_keys import check_jwks
from idp.services.errors import InvalidInput
from idp.services.sector_identifier import check_sector_identifier
from idp.services.subjects import sector_identifier

SIGNING_ALGS = ("RS256", "ES256")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
MAX_URI_LENGTH = 2000
MAX_URIS = 20
MAX_NAME_LENGTH = 200


@dataclass
class ClientRequest:
    """A client as a partner (or an operator) describes it.

    ``purposes`` None means "the smallest set of purposes covering ``scope``"
    (INTERFACE.md); ``grant_types`` None the usual ones for the auth method.
    """

    partner_id: str
    client_name: str
    redirect_uris: list[str]
    scope: str
    purposes: list[str] | None = None
    public: bool = False
    access_token_ttl: int = defaults.ACCESS_TOKEN_SECONDS
    grant_ttl: int = defaults.GRANT_SECONDS
    token_endpoint_auth_method: str | None = None
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = True
    #: RFC 8935 push endpoint for Security Event Tokens (consent withdrawn).
    security_event_uri: str | None = None
    id_token_signed_response_alg: str = "RS256"
    grant_types: list[str] | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    sector_identifier_uri: str | None = None
    logo_uri: str | None = None
    client_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None
    #: RFC 9126 §6: authorization requests only as pushed authorization requests.
    require_pushed_authorization_requests: bool = False
    #: RFC 9449 §5.2: every token request must carry a DPoP proof.
    dpop_bound_access_tokens: bool = False
    # -- set by Miles & More only ------------------------------------------------
    approved: bool = False
    first_party: bool = False


#: Fields only the operator sets; partners' doors refuse them.
OPERATOR_FIELDS = ("approved", "first_party")


def check_partner_request(req: ClientRequest) -> None:
    """The portal and RFC 7591: a partner cannot approve its client or make it first-party."""
    for name in OPERATOR_FIELDS:
        if getattr(req, name):
            raise InvalidInput(f"Only Miles & More sets {name}.", name)


def check_redirect_uri(uri: str, field_name: str = "redirect_uris") -> str:
    """RFC 6749 §3.1.2 and the Security BCP: absolute, no fragment, https (or loopback http).

    Private-use schemes (``com.example.app:/cb``) are allowed for native apps (RFC 8252 §7.1).
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidInput("Each redirect URI must be absolute and without a fragment.", field_name)
    parts = _split(uri, field_name)
    if not parts.scheme or parts.fragment or "#" in uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidInput("Each redirect URI must be absolute and without a fragment.", field_name)
    if any(ch.isspace() for ch in uri):
        raise InvalidInput("A redirect URI holds no spaces.", field_name)
    if parts.scheme == "https":
        if not parts.hostname:
            raise InvalidInput("A redirect URI needs a host.", field_name)
    elif parts.scheme == "http":
        if parts.hostname not in LOOPBACK_HOSTS:
            raise InvalidInput(
                "Plain http redirect URIs are allowed for loopback only.", field_name
            )
    elif "." not in parts.scheme or parts.scheme in ("javascript", "data", "file"):
        raise InvalidInput("Use https, loopback http or a reverse-DNS private scheme.", field_name)
    return uri


def check_https(uri: str | None, field_name: str) -> str | None:
    """An https URL (plain http for loopback hosts only), without a fragment."""
    if uri is None:
        return None
    if not isinstance(uri, str) or len(uri) > MAX_URI_LENGTH or any(c.isspace() for c in uri):
        raise InvalidInput(f"{field_name} must be an https URL.", field_name)
    parts = _split(uri, field_name)
    if parts.fragment or "#" in uri:
        raise InvalidInput(f"{field_name} must be an https URL without a fragment.", field_name)
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return uri
    raise InvalidInput(f"{field_name} must be an https URL.", field_name)


def _split(uri: str, field_name: str):
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError as exc:
        raise InvalidInput(f"{field_name} is not a valid URL.", field_name) from exc
    return parts


@dataclass
class ValidClient:
    """The column values of a client whose metadata passed every rule."""

    values: dict
    #: Whether this client authenticates with a secret (and so needs one).
    uses_secret: bool


def validate(req: ClientRequest, previous=None) -> ValidClient:
    """Check ``req``; ``previous`` is the stored client when ``req`` replaces its metadata."""
    name = (req.client_name or "").strip() if isinstance(req.client_name, str) else ""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput("A client needs a name of up to 200 characters.", "client_name")
    method = _auth_method(req)
    grant_types = _grant_types(req, method)
    if "authorization_code" in grant_types and not req.redirect_uris:
        raise InvalidInput("Register at least one redirect URI.", "redirect_uris")
    for field_name in ("redirect_uris", "post_logout_redirect_uris"):
        uris = getattr(req, field_name)
        if len(uris) > MAX_URIS:
            raise InvalidInput(f"Register at most {MAX_URIS} URIs.", field_name)
        for uri in uris:
            check_redirect_uri(uri, field_name)
    scopes, purposes = _scopes_and_purposes(req)
    _check_client_scopes(scopes, method, grant_types)
    _check_lifetimes(req)
    if req.id_token_signed_response_alg not in SIGNING_ALGS:
        raise InvalidInput(
            f"id_token_signed_response_alg is one of {', '.join(SIGNING_ALGS)}.",
            "id_token_signed_response_alg",
        )
    for attr in (
        "backchannel_logout_uri",
        "security_event_uri",
        "jwks_uri",
        "sector_identifier_uri",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
    ):
        check_https(getattr(req, attr), attr)
    if req.logo_uri and urlsplit(req.logo_uri).scheme != "https":
        raise InvalidInput("The logo is shown to members, so it is served over https.", "logo_uri")
    _check_keys(req, method)
    redirect_uris = list(dict.fromkeys(req.redirect_uris))
    _check_sector(req, redirect_uris, previous)
    values = dict(
        partner_id=req.partner_id,
        client_name=name,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=list(dict.fromkeys(req.post_logout_redirect_uris)),
        scope=" ".join(dict.fromkeys(scopes)),
        purposes=purposes,
        token_endpoint_auth_method=method,
        grant_types=grant_types,
        response_types=["code"] if "authorization_code" in grant_types else [],
        access_token_ttl=req.access_token_ttl,
        grant_ttl=req.grant_ttl,
        id_token_signed_response_alg=req.id_token_signed_response_alg,
        subject_type="public" if req.first_party else "pairwise",
        first_party=req.first_party,
        jwks=req.jwks,
        jwks_uri=req.jwks_uri,
        sector_identifier_uri=req.sector_identifier_uri,
        backchannel_logout_uri=req.backchannel_logout_uri,
        backchannel_logout_session_required=bool(req.backchannel_logout_session_required),
        security_event_uri=req.security_event_uri,
        logo_uri=req.logo_uri,
        client_uri=req.client_uri,
        policy_uri=req.policy_uri,
        tos_uri=req.tos_uri,
        require_pushed_authorization_requests=bool(req.require_pushed_authorization_requests),
        dpop_bound_access_tokens=bool(req.dpop_bound_access_tokens),
    )
    return ValidClient(values, method in SECRET_METHODS)


def _auth_method(req: ClientRequest) -> str:
    method = req.token_endpoint_auth_method or ("none" if req.public else "client_secret_basic")
    if method not in TOKEN_ENDPOINT_AUTH_METHODS:
        raise InvalidInput(
            f"token_endpoint_auth_method is one of {', '.join(TOKEN_ENDPOINT_AUTH_METHODS)}.",
            "token_endpoint_auth_method",
        )
    if req.public and method != "none":
        raise InvalidInput("A public client authenticates with none.", "token_endpoint_auth_method")
    return method


def _grant_types(req: ClientRequest, method: str) -> list[str]:
    if req.grant_types is None:
        defaults_ = ["authorization_code", "refresh_token"]
        return defaults_ if method == "none" else [*defaults_, "client_credentials"]
    grant_types = list(dict.fromkeys(req.grant_types))
    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if not grant_types or unknown:
        raise InvalidInput(f"grant_types are some of {', '.join(GRANT_TYPES)}.", "grant_types")
    if method == "none" and "client_credentials" in grant_types:
        raise InvalidInput("A public client cannot use client_credentials.", "grant_types")
    if "refresh_token" in grant_types and "authorization_code" not in grant_types:
        raise InvalidInput("refresh_token comes with authorization_code.", "grant_types")
    return grant_types


def _scopes_and_purposes(req: ClientRequest) -> tuple[list[str], list[str]]:
    if not isinstance(req.scope, str):
        raise InvalidInput("The scope is a space-separated string.", "scope")
    scopes = req.scope.split()
    unknown_scopes = [s for s in scopes if s not in SCOPE_CLAIMS and s not in CLIENT_SCOPES]
    if unknown_scopes:
        raise InvalidInput(f"Unknown scope: {', '.join(unknown_scopes)}.", "scope")
    if "openid" not in scopes:
        raise InvalidInput("The scope must include openid.", "scope")
    member_scopes = [s for s in scopes if s not in CLIENT_SCOPES]
    if req.purposes is None:
        purposes = smallest_purposes_for(member_scopes)  # every known scope has a purpose
    else:
        unknown = [p for p in req.purposes if p not in PURPOSES]
        if unknown:
            raise InvalidInput(f"Unknown purpose: {', '.join(unknown)}.", "purposes")
        purposes = list(dict.fromkeys(req.purposes))
    not_allowed = [s for s in member_scopes if s not in scopes_of_purposes(purposes)]
    if not_allowed:
        raise InvalidInput(
            f"No declared purpose covers: {', '.join(not_allowed)}. "
            "Declare the purpose that needs it.",
            "scope",
        )
    return scopes, purposes


def _check_client_scopes(scopes: list[str], method: str, grant_types: list[str]) -> None:
    """The grant management scopes are for confidential clients (Grant Management §5.1),
    which ask for them with client credentials (``idp.oauth.grant_management``)."""
    if not set(scopes) & set(REGISTERED_CLIENT_SCOPES):
        return
    if method == "none":
        raise InvalidInput("Grant management is only for confidential clients.", "scope")
    if "client_credentials" not in grant_types:
        raise InvalidInput(
            "The grant management scopes are asked for with client_credentials; "
            "register that grant type too.",
            "scope",
        )


def _check_lifetimes(req: ClientRequest) -> None:
    for name, text in (
        ("access_token_ttl", "The access token lifetime"),
        ("grant_ttl", "The access period"),
    ):
        value = getattr(req, name)
        if type(value) is not int or not 1 <= value <= defaults.MAX_CLIENT_TTL_SECONDS:
            raise InvalidInput(
                f"{text} is a whole number of seconds from 1 to {defaults.MAX_CLIENT_TTL_SECONDS}.",
                name,
            )


def _check_keys(req: ClientRequest, method: str) -> None:
    if req.jwks is not None and req.jwks_uri is not None:
        # OIDC Registration §2: the two MUST NOT both be used.
        raise InvalidInput("Give jwks or jwks_uri, not both.", "jwks")
    if req.jwks is not None:
        check_jwks(req.jwks)
    if method == "private_key_jwt" and not (req.jwks or req.jwks_uri):
        raise InvalidInput("private_key_jwt needs jwks or jwks_uri.", "jwks")


def _check_sector(req: ClientRequest, redirect_uris: list[str], previous) -> None:
    """OIDC Core §8.1 and Registration §5: one sector for every redirect URI, proven by its host.

    A pairwise client's sector decides its members' subjects, so it stays the
    same when the client changes: otherwise every member would become a
    stranger to the partner (or be linked to another partner's sector).
    """
    if req.first_party:
        return
    hosts = {urlsplit(uri).hostname or urlsplit(uri).scheme for uri in redirect_uris}
    if len(hosts) > 1 and not req.sector_identifier_uri:
        raise InvalidInput(
            "Redirect URIs on several hosts need a sector_identifier_uri.", "sector_identifier_uri"
        )
    unchanged = previous is not None and (
        previous.sector_identifier_uri == req.sector_identifier_uri
        and set(redirect_uris) <= set(previous.redirect_uris or [])
    )
    if req.sector_identifier_uri and not unchanged:
        check_sector_identifier(req.sector_identifier_uri, redirect_uris)
    # A client without redirect URIs (client_credentials only) has no members yet.
    had_members = previous is not None and (
        previous.redirect_uris or previous.sector_identifier_uri
    )
    if had_members and previous.subject_type == "pairwise":
        before = sector_identifier(previous)
        after = sector_identifier(
            SimpleNamespace(
                sector_identifier_uri=req.sector_identifier_uri,
                redirect_uris=redirect_uris,
                client_id=previous.client_id,
            )
        )
        if before != after:
            raise InvalidInput(
                f"The client's sector stays {before}: a sector_identifier_uri on that host "
                "can list the new redirect URIs.",
                "sector_identifier_uri",
            )
