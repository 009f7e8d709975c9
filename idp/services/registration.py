"""Partners and their clients: registration, changes, approval, secret rotation.

The portal, RFC 7591/7592 and the CLI all register clients through here, so
the rules (allowed scopes per purpose, exact redirect URIs, auth methods) are
the same whichever door a partner comes through (the rules themselves are in
``idp.services.client_metadata``).
"""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Partner, PartnerDeveloper, hash_secret
from idp.models.partner import PARTNER_CATEGORIES
from idp.models.types import utcnow
from idp.services import audit, client_metadata

# ClientRequest is how every door describes a client; callers take it from here.
from idp.services.client_metadata import ClientRequest  # noqa: F401
from idp.services.errors import InvalidInput, NotFound


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


def new_client_id() -> str:
    """About 149 random bits in letters and digits: never a leading ``-`` that a
    command line would read as an option, and nothing to escape in a URL."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(25))


def register_client(req: ClientRequest) -> tuple[Client, str | None]:
    """Register a client; returns it with its secret, which is shown once and never stored."""
    client, secret = add_client(req)
    db.session.commit()
    return client, secret


def add_client(
    req: ClientRequest, valid: client_metadata.ValidClient | None = None
) -> tuple[Client, str | None]:
    """``register_client`` within the caller's transaction (the caller commits)."""
    partner = db.session.get(Partner, req.partner_id)
    if partner is None:
        raise NotFound("No partner with this id.", "partner_id")
    valid = valid or client_metadata.validate(req)
    secret = secrets.token_urlsafe(32) if valid.uses_secret else None
    client = Client(
        client_id=new_client_id(),
        client_secret_hash=hash_secret(secret) if secret else None,
        approved_at=utcnow() if req.approved else None,
        **valid.values,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(
        "client.registered",
        client_id=client.client_id,
        partner_id=partner.id,
        approved=req.approved,
    )
    return client, secret


def register_partner_client(req: ClientRequest) -> tuple[Client, str | None]:
    """A client a partner registers (portal, RFC 7591): unapproved, never first-party."""
    client_metadata.check_partner_request(req)
    return register_client(req)


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


def request_from(client: Client) -> ClientRequest:
    """The client's stored metadata as a request, for a change of some of its fields."""
    return ClientRequest(
        partner_id=client.partner_id,
        client_name=client.client_name,
        redirect_uris=list(client.redirect_uris or []),
        scope=client.scope,
        purposes=list(client.purposes or []),
        public=client.token_endpoint_auth_method == "none",
        access_token_ttl=client.access_token_ttl,
        grant_ttl=client.grant_ttl,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        post_logout_redirect_uris=list(client.post_logout_redirect_uris or []),
        backchannel_logout_uri=client.backchannel_logout_uri,
        backchannel_logout_session_required=client.backchannel_logout_session_required,
        security_event_uri=client.security_event_uri,
        id_token_signed_response_alg=client.id_token_signed_response_alg,
        grant_types=list(client.grant_types or []),
        jwks=client.jwks,
        jwks_uri=client.jwks_uri,
        sector_identifier_uri=client.sector_identifier_uri,
        logo_uri=client.logo_uri,
        client_uri=client.client_uri,
        policy_uri=client.policy_uri,
        tos_uri=client.tos_uri,
        require_pushed_authorization_requests=client.require_pushed_authorization_requests,
        dpop_bound_access_tokens=client.dpop_bound_access_tokens,
        approved=client.approved,
        first_party=client.first_party,
    )


def change_client(
    client: Client, req: ClientRequest, *, by_operator: bool = False, member_id: str | None = None
) -> tuple[Client, str | None]:
    """Replace the client's metadata with ``req`` (RFC 7592 §2.2: the whole of it).

    Returns the client and a new secret when the change made it need one (a
    public client becoming confidential), else None. A partner (``by_operator``
    False) cannot change the partner, approval or first-party status; the
    operator approves or withdraws approval elsewhere, so ``req.approved`` is
    not read here. Every change is audited and raises the client's version, so
    every process sees it at once. The caller commits (``update_client``).
    """
    if req.partner_id != client.partner_id:
        raise InvalidInput("A client stays with its partner.", "partner_id")
    if not by_operator and req.first_party != client.first_party:
        raise InvalidInput("Only Miles & More sets first_party.", "first_party")
    valid = client_metadata.validate(req, previous=client)
    changed = sorted(name for name, value in valid.values.items() if getattr(client, name) != value)
    secret = None
    if valid.uses_secret and not client.client_secret_hash:
        secret = secrets.token_urlsafe(32)
        client.client_secret_hash = hash_secret(secret)
        client.client_secret_rotated_at = utcnow()
        changed.append("client_secret")
    elif not valid.uses_secret and client.client_secret_hash:
        client.client_secret_hash = None
        _forget_previous_secret(client)
        changed.append("client_secret")
    if changed:
        for name, value in valid.values.items():
            if getattr(client, name) != value:
                setattr(client, name, value)
        audit.record(
            "client.updated",
            member_id=member_id,
            client_id=client.client_id,
            partner_id=client.partner_id,
            fields=changed,
            by_operator=by_operator,
        )
    return client, secret


def update_client(
    client: Client, req: ClientRequest, *, by_operator: bool = False, member_id: str | None = None
) -> tuple[Client, str | None]:
    """``change_client``, committed. ``member_id``: the developer who changed it (portal)."""
    result = change_client(client, req, by_operator=by_operator, member_id=member_id)
    db.session.commit()
    return result


#: The longest a replaced secret keeps working (a week for a deployment to roll over).
MAX_SECRET_GRACE_SECONDS = 7 * 24 * 60 * 60


def rotate_secret(client: Client, grace_seconds: int = 0, member_id: str | None = None) -> str:
    """A new secret, shown once; the old one works for ``grace_seconds`` more (at most 7 days).

    A rotation during a grace period ends that period: only the secret being
    replaced now keeps working, so at most two secrets are ever valid.
    """
    if client.token_endpoint_auth_method not in client_metadata.SECRET_METHODS:
        raise InvalidInput("This client does not authenticate with a secret.", "client_id")
    if type(grace_seconds) is not int or not 0 <= grace_seconds <= MAX_SECRET_GRACE_SECONDS:
        raise InvalidInput(
            f"The grace period is 0 to {MAX_SECRET_GRACE_SECONDS} seconds (7 days).", "grace"
        )
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    if grace_seconds and client.client_secret_hash:
        client.previous_secret_hash = client.client_secret_hash
        client.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
    else:
        _forget_previous_secret(client)
    client.client_secret_hash = hash_secret(secret)
    client.client_secret_rotated_at = now
    audit.record(
        "client.secret_rotated",
        member_id=member_id,
        client_id=client.client_id,
        partner_id=client.partner_id,
        grace_seconds=grace_seconds,
    )
    db.session.commit()
    return secret


def rotate_client_secret(client: Client) -> str:
    """A new secret; the old one stops working at once."""
    return rotate_secret(client, 0)


def _forget_previous_secret(client: Client) -> None:
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
