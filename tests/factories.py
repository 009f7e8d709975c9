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
        # Most tests stand for a member whose address is confirmed; say so explicitly.
        email_verified=True,
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


def make_consent(member, client, scope: str | None = None, **fields):
    """A member's standing consent for a client (by default to every scope it registered)."""
    from idp.catalog import CONSENT_TEXT_VERSIONS
    from idp.extensions import db
    from idp.models import Consent

    fields.setdefault("text_versions", {p: CONSENT_TEXT_VERSIONS.get(p) for p in client.purposes})
    consent = Consent(
        member_id=member.id,
        client_id=client.id,
        scope=scope if scope is not None else client.scope,
        purposes=list(client.purposes),
        **fields,
    )
    db.session.add(consent)
    db.session.commit()
    return consent


def issue_token(member, client, scope: str | None = None, *, consent=None, **fields):
    """An access token for ``member`` at ``client``, committed. Returns ``IssuedTokens``."""
    from idp.extensions import db
    from idp.services import tokens

    if consent is None and member is not None:
        consent = make_consent(member, client, scope)
    issued = tokens.issue(
        client,
        scope=scope if scope is not None else client.scope,
        member_id=member.id if member is not None else None,
        consent=consent,
        **fields,
    )
    db.session.commit()
    return issued


def log_in(client, member, amr=("pwd", "otp")) -> str:
    """Log ``member`` in on a test client as the login pages do; returns the session id (sid)."""
    from flask import g, session

    from idp.services import sso

    with client.application.test_request_context():
        started = sso.start_session(member, list(amr))
        sid, token = started.id, session[sso.TOKEN_KEY]
        g.pop("sso_session", None)
    with client.session_transaction() as cookie:
        cookie[sso.TOKEN_KEY] = token
    return sid
