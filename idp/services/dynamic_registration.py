"""Dynamic client registration (RFC 7591) and client configuration management (RFC 7592).

Initial access tokens come from the operator (``mam-idp clients
registration-token``); each is stored hashed, expires (24 hours unless told
otherwise) and may allow a limited number of registrations. A token bound to a
partner registers that partner's clients; a token issued without one registers
every client for a new partner of its own (category ``partner_company``, named
after the client), so that registrations made with one open token never share a
partner, its developers or its sector.

Each client gets a registration access token that manages it and nothing else:
it is stored hashed on the client's own row and compared only there (never
looked up among all clients, Authlib advisory GHSA-c73q-w75p-j82v). A PUT
replaces it; the token the PUT was made with keeps working until the new one
is first used, so a lost response does not lock the partner out.

Registered clients start unapproved; the rules for their metadata are the same
as the portal's and the CLI's (``idp.services.client_metadata``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from idp.extensions import db
from idp.models import Client, InitialAccessToken, Partner, Token, hash_secret
from idp.models.types import utcnow
from idp.services import audit, client_metadata, registration, ssf_events
from idp.services.client_metadata import ClientRequest
from idp.services.errors import InvalidInput, NotFound

#: An initial access token's lifetime unless the operator gives another.
INITIAL_TOKEN_SECONDS = 24 * 60 * 60
#: The longest lifetime of an initial access token.
MAX_INITIAL_TOKEN_SECONDS = 365 * 24 * 60 * 60
#: The partner a token without one puts a registered client under.
NEW_PARTNER_CATEGORY = "partner_company"


class InvalidRegistrationToken(Exception):
    """RFC 6750 §3.1 ``invalid_token``: unknown, expired or used up, or for another client."""


@dataclass
class Registration:
    """A client as its registration (or a change of it) answers: secrets shown once."""

    client: Client
    client_secret: str | None
    registration_access_token: str | None


def issue_initial_access_token(
    partner_id: str | None = None,
    uses: int | None = None,
    ttl_seconds: int = INITIAL_TOKEN_SECONDS,
) -> str:
    """A new initial access token, shown once; only its hash is kept."""
    if partner_id is not None and db.session.get(Partner, partner_id) is None:
        raise NotFound("No partner with this id.", "partner_id")
    if uses is not None and (type(uses) is not int or uses < 1):
        raise InvalidInput("A token allows at least one registration.", "uses")
    if type(ttl_seconds) is not int or not 1 <= ttl_seconds <= MAX_INITIAL_TOKEN_SECONDS:
        raise InvalidInput(f"The lifetime is 1 to {MAX_INITIAL_TOKEN_SECONDS} seconds.", "ttl")
    value = secrets.token_urlsafe(32)
    row = InitialAccessToken(
        token_hash=hash_secret(value),
        partner_id=partner_id,
        max_uses=uses,
        uses=0,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "registration.initial_token_issued",
        partner_id=partner_id,
        initial_token_id=row.id,
        uses=uses,
        ttl_seconds=ttl_seconds,
    )
    db.session.commit()
    return value


def _usable(now):
    return (InitialAccessToken.expires_at > now) & or_(
        InitialAccessToken.max_uses.is_(None),
        InitialAccessToken.uses < InitialAccessToken.max_uses,
    )


def find_initial_access_token(value: str) -> InitialAccessToken | None:
    """The token ``value`` names while it is unexpired and has uses left."""
    if not value:
        return None
    return db.session.scalar(
        select(InitialAccessToken).where(
            InitialAccessToken.token_hash == hash_secret(value), _usable(utcnow())
        )
    )


def register(initial_token: InitialAccessToken, req: ClientRequest) -> Registration:
    """RFC 7591 §3.1: register ``req`` with ``initial_token``, all or nothing.

    The metadata is checked before the token's use is counted, so a refused
    request costs the partner no registration. The use is claimed in one
    statement that also checks what is left, so two requests racing for the
    last use cannot both register.
    """
    client_metadata.check_partner_request(req)
    req.partner_id = initial_token.partner_id or ""
    valid = client_metadata.validate(req)
    claimed = db.session.execute(
        update(InitialAccessToken)
        .where(InitialAccessToken.id == initial_token.id, _usable(utcnow()))
        .values(uses=InitialAccessToken.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise InvalidRegistrationToken()
    if initial_token.partner_id is None:
        partner = Partner(name=valid.values["client_name"], category=NEW_PARTNER_CATEGORY)
        db.session.add(partner)
        db.session.flush()
        audit.record("partner.created", partner_id=partner.id, category=partner.category)
        req.partner_id = valid.values["partner_id"] = partner.id
    client, secret = registration.add_client(req, valid)
    token = _new_registration_token(client, previous_hash=None)
    audit.record(
        "client.registered_dynamically",
        client_id=client.client_id,
        partner_id=client.partner_id,
        initial_token_id=initial_token.id,
    )
    db.session.commit()
    return Registration(client, secret, token)


def _new_registration_token(client: Client, previous_hash: str | None) -> str:
    value = secrets.token_urlsafe(32)
    client.registration_token_hash = hash_secret(value)
    client.previous_registration_token_hash = previous_hash
    return value


def _matches(stored: str | None, presented: str) -> bool:
    return bool(stored) and hmac.compare_digest(stored, presented)


def authenticate(client_id: str, value: str) -> Client:
    """RFC 7592 §3: the client at ``client_id`` when ``value`` is *its* registration token.

    Only this client's own hashes are compared: a token of another client, or
    a token for a client that does not exist, is ``InvalidRegistrationToken``.
    The first use of a new token retires the one it replaced.
    """
    client = registration.get_client(client_id) if client_id and value else None
    if client is None:
        raise InvalidRegistrationToken()
    presented = hash_secret(value)
    if _matches(client.registration_token_hash, presented):
        if client.previous_registration_token_hash:
            client.previous_registration_token_hash = None
            audit.record(
                "client.registration_token_confirmed",
                client_id=client.client_id,
                partner_id=client.partner_id,
            )
            db.session.commit()
        return client
    if _matches(client.previous_registration_token_hash, presented):
        return client
    raise InvalidRegistrationToken()


def change(client: Client, presented: str, req: ClientRequest) -> Registration:
    """RFC 7592 §2.2: replace the metadata, and the registration access token with it.

    The token this request came with stays valid until the new one is used, so
    a partner who never received this response still manages its client.
    """
    client_metadata.check_partner_request(req)
    req.partner_id = client.partner_id
    client, secret = registration.change_client(client, req)
    token = _new_registration_token(client, previous_hash=hash_secret(presented))
    audit.record(
        "client.registration_token_rotated",
        client_id=client.client_id,
        partner_id=client.partner_id,
    )
    db.session.commit()
    return Registration(client, secret, token)


def retire(client: Client) -> None:
    """RFC 7592 §2.3: the client id, its secret and every token stop working at once.

    The row stays, stripped of everything that lets it authenticate, redirect
    or be managed, because the consent evidence of its members refers to it;
    its Shared Signals stream goes, with what it holds.
    """
    db.session.execute(
        update(Token)
        .where(Token.client_id == client.id, Token.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    client.client_secret_hash = None
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
    client.registration_token_hash = None
    client.previous_registration_token_hash = None
    client.redirect_uris = []
    client.post_logout_redirect_uris = []
    client.grant_types = []
    client.response_types = []
    client.jwks = None
    client.jwks_uri = None
    client.backchannel_logout_uri = None
    client.security_event_uri = None
    stream = ssf_events.stream_of(client)
    if stream is not None:
        ssf_events.forget(stream)
    client.approved_at = None
    audit.record("client.deleted", client_id=client.client_id, partner_id=client.partner_id)
    db.session.commit()
