"""Partners and their clients: registration, approval, secret rotation.

The portal, RFC 7591/7592 and the CLI all register clients through here, so
the rules (allowed scopes per purpose, exact redirect URIs, auth methods) are
the same whichever door a partner comes through.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select

from idp import defaults
from idp.catalog import PURPOSES, SCOPE_CLAIMS, scopes_of_purposes
from idp.config import LOOPBACK_HOSTS
from idp.extensions import db
from idp.models import Client, Partner, PartnerDeveloper, hash_secret
from idp.models.client import TOKEN_ENDPOINT_AUTH_METHODS
from idp.models.partner import PARTNER_CATEGORIES
from idp.models.types import utcnow
from idp.services import audit
from idp.services.errors import InvalidInput, NotFound

SIGNING_ALGS = ("RS256", "ES256")


def create_partner(name: str, category: str) -> Partner:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("A partner needs a name of up to 200 characters.", field="name")
    if category not in PARTNER_CATEGORIES:
        raise InvalidInput(
            f"The category is one of {', '.join(PARTNER_CATEGORIES)}.", field="category"
        )
    partner = Partner(name=name, category=category)
    db.session.add(partner)
    db.session.flush()
    audit.record("partner.created", partner_id=partner.id, category=category)
    db.session.commit()
    return partner


def add_developer(partner: Partner, member_id: str) -> None:
    if db.session.get(PartnerDeveloper, (partner.id, member_id)) is None:
        db.session.add(PartnerDeveloper(partner_id=partner.id, member_id=member_id))
        audit.record("partner.developer_added", member_id=member_id, partner_id=partner.id)
        db.session.commit()


def is_developer(partner_id: str, member_id: str) -> bool:
    return db.session.get(PartnerDeveloper, (partner_id, member_id)) is not None


@dataclass
class ClientRequest:
    partner_id: str
    client_name: str
    redirect_uris: list[str]
    scope: str
    purposes: list[str] = field(default_factory=list)
    public: bool = False
    approved: bool = False
    access_token_ttl: int = defaults.ACCESS_TOKEN_SECONDS
    grant_ttl: int = defaults.GRANT_SECONDS
    token_endpoint_auth_method: str | None = None
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    #: RFC 8935 push endpoint for Security Event Tokens (consent withdrawn).
    security_event_uri: str | None = None
    id_token_signed_response_alg: str = "RS256"
    first_party: bool = False
    grant_types: list[str] | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    sector_identifier_uri: str | None = None
    logo_uri: str | None = None
    client_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None


def check_redirect_uri(uri: str, field_name: str = "redirect_uris") -> str:
    """RFC 6749 §3.1.2 and the Security BCP: absolute, no fragment, https (or loopback http).

    Private-use schemes (``com.example.app:/cb``) are allowed for native apps (RFC 8252 §7.1).
    """
    parts = urlsplit(uri or "")
    if not parts.scheme or parts.fragment or "#" in uri or len(uri) > 2000:
        raise InvalidInput("Each redirect URI must be absolute and without a fragment.", field_name)
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


def _check_https(uri: str | None, field_name: str) -> str | None:
    if uri is None:
        return None
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return uri
    raise InvalidInput(f"{field_name} must be an https URL.", field_name)


def _validate(req: ClientRequest) -> tuple[list[str], str]:
    name = (req.client_name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("A client needs a name of up to 200 characters.", "client_name")
    if not req.redirect_uris:
        raise InvalidInput("Register at least one redirect URI.", "redirect_uris")
    for uri in req.redirect_uris:
        check_redirect_uri(uri)
    for uri in req.post_logout_redirect_uris:
        check_redirect_uri(uri, "post_logout_redirect_uris")
    unknown = [p for p in req.purposes if p not in PURPOSES]
    if unknown:
        raise InvalidInput(f"Unknown purpose: {', '.join(unknown)}.", "purposes")
    scopes = req.scope.split()
    unknown_scopes = [s for s in scopes if s not in SCOPE_CLAIMS]
    if unknown_scopes:
        raise InvalidInput(f"Unknown scope: {', '.join(unknown_scopes)}.", "scope")
    if "openid" not in scopes:
        raise InvalidInput("The scope must include openid.", "scope")
    not_allowed = [s for s in scopes if s not in scopes_of_purposes(req.purposes)]
    if not_allowed:
        raise InvalidInput(
            f"No declared purpose covers: {', '.join(not_allowed)}. "
            "Declare the purpose that needs it.",
            "scope",
        )
    method = req.token_endpoint_auth_method or ("none" if req.public else "client_secret_basic")
    if method not in TOKEN_ENDPOINT_AUTH_METHODS:
        raise InvalidInput(
            f"token_endpoint_auth_method is one of {', '.join(TOKEN_ENDPOINT_AUTH_METHODS)}.",
            "token_endpoint_auth_method",
        )
    if req.public and method != "none":
        raise InvalidInput("A public client authenticates with none.", "token_endpoint_auth_method")
    if method == "private_key_jwt" and not (req.jwks or req.jwks_uri):
        raise InvalidInput("private_key_jwt needs jwks or jwks_uri.", "jwks")
    if not 1 <= req.access_token_ttl <= defaults.MAX_CLIENT_TTL_SECONDS:
        raise InvalidInput("The access token lifetime is at least 1 second.", "access_token_ttl")
    if not 1 <= req.grant_ttl <= defaults.MAX_CLIENT_TTL_SECONDS:
        raise InvalidInput("The access period is at least 1 second.", "grant_ttl")
    if req.id_token_signed_response_alg not in SIGNING_ALGS:
        raise InvalidInput(
            f"id_token_signed_response_alg is one of {', '.join(SIGNING_ALGS)}.",
            "id_token_signed_response_alg",
        )
    hosts = {urlsplit(uri).hostname or urlsplit(uri).scheme for uri in req.redirect_uris}
    if not req.first_party and len(hosts) > 1 and not req.sector_identifier_uri:
        # OIDC Core §8.1: pairwise subjects need one sector for all redirect URIs.
        raise InvalidInput(
            "Redirect URIs on several hosts need a sector_identifier_uri.", "sector_identifier_uri"
        )
    _check_https(req.backchannel_logout_uri, "backchannel_logout_uri")
    _check_https(req.security_event_uri, "security_event_uri")
    for attr in (
        "jwks_uri",
        "sector_identifier_uri",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
    ):
        _check_https(getattr(req, attr), attr)
    return scopes, method


def new_client_id() -> str:
    """About 149 random bits in letters and digits: never a leading ``-`` that a
    command line would read as an option, and nothing to escape in a URL."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(25))


def register_client(req: ClientRequest) -> tuple[Client, str | None]:
    """Register a client; returns it with its secret, which is shown once and never stored."""
    partner = db.session.get(Partner, req.partner_id)
    if partner is None:
        raise NotFound("No partner with this id.", "partner_id")
    scopes, method = _validate(req)
    grant_types = req.grant_types or (
        ["authorization_code", "refresh_token"]
        if method == "none"
        else ["authorization_code", "refresh_token", "client_credentials"]
    )
    secret = None if method in ("none", "private_key_jwt") else secrets.token_urlsafe(32)
    client = Client(
        client_id=new_client_id(),
        partner_id=partner.id,
        client_name=req.client_name.strip(),
        client_secret_hash=hash_secret(secret) if secret else None,
        redirect_uris=list(req.redirect_uris),
        post_logout_redirect_uris=list(req.post_logout_redirect_uris),
        scope=" ".join(dict.fromkeys(scopes)),
        purposes=list(dict.fromkeys(req.purposes)),
        token_endpoint_auth_method=method,
        grant_types=grant_types,
        response_types=["code"],
        access_token_ttl=req.access_token_ttl,
        grant_ttl=req.grant_ttl,
        id_token_signed_response_alg=req.id_token_signed_response_alg,
        subject_type="public" if req.first_party else "pairwise",
        first_party=req.first_party,
        jwks=req.jwks,
        jwks_uri=req.jwks_uri,
        sector_identifier_uri=req.sector_identifier_uri,
        backchannel_logout_uri=req.backchannel_logout_uri,
        security_event_uri=req.security_event_uri,
        logo_uri=req.logo_uri,
        client_uri=req.client_uri,
        policy_uri=req.policy_uri,
        tos_uri=req.tos_uri,
        approved_at=utcnow() if req.approved else None,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(
        "client.registered",
        client_id=client.client_id,
        partner_id=partner.id,
        approved=req.approved,
    )
    db.session.commit()
    return client, secret


def get_client(client_id: str) -> Client | None:
    return db.session.scalar(select(Client).where(Client.client_id == client_id))


def approve_client(client_id: str) -> Client:
    client = get_client(client_id)
    if client is None:
        raise NotFound("No client with this id.", "client_id")
    if client.approved_at is None:
        client.approved_at = utcnow()
        audit.record("client.approved", client_id=client.client_id)
        db.session.commit()
    return client


def rotate_client_secret(client: Client) -> str:
    if client.token_endpoint_auth_method not in ("client_secret_basic", "client_secret_post"):
        raise InvalidInput("This client does not authenticate with a secret.")
    secret = secrets.token_urlsafe(32)
    client.client_secret_hash = hash_secret(secret)
    client.client_secret_rotated_at = utcnow()
    audit.record("client.secret_rotated", client_id=client.client_id)
    db.session.commit()
    return secret
