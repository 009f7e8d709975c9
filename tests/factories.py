"""Rows for tests, made through the services so they obey the same rules as production."""

from __future__ import annotations

import secrets

import pyotp

from idp.services.members import NewMember, create_member
from idp.services.registration import ClientRequest, create_partner, register_client

DEFAULT_PASSWORD = "correct horse battery"


def make_member(*, totp: bool = True, password: str = DEFAULT_PASSWORD, **fields):
    """A member; with ``totp`` an enrolled TOTP key. Returns (member, password, totp_key)."""
    key = pyotp.random_base32() if totp else None
    values = dict(
        email=f"member-{secrets.token_hex(4)}@example.com",
        password=password,
        given_name="Anna",
        family_name="Schmidt",
        totp_secret=key,
    )
    values.update(fields)
    member = create_member(NewMember(**values))
    return member, password, key


def make_partner(name: str = "Test Airline", category: str = "co_issuer"):
    return create_partner(name, category)


def make_client(partner=None, **fields):
    """An approved confidential client by default. Returns (client, secret)."""
    partner = partner or make_partner()
    values = dict(
        partner_id=partner.id,
        client_name="Test Partner Website",
        redirect_uris=["https://partner.example/callback"],
        scope="openid profile email offline_access",
        purposes=["registration"],
        approved=True,
    )
    values.update(fields)
    return register_client(ClientRequest(**values))
