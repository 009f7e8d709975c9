"""The airline of the demo: what a second instance of the provider, serving as
Lufthansa's ID service, starts with so that the demo member can link a profile.

One profile (a member there, with a password and a TOTP key, printed by
``mam-idp demo``), the airline as a partner, and this provider as its approved
client with ``<provider issuer>/linking/lufthansa/callback`` as redirect URI.
Seeding is idempotent like ``idp.services.demo``: a second run finds what the
first made, puts back the printed password and a TOTP key, follows the
provider to another port, and keeps the client's secret in the airline's
instance folder (mode 0600) because only its hash is in its database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyotp

from idp.extensions import db
from idp.models import Partner
from idp.services import audit
from idp.services.demo import demo_partner, kept_client, restore_credentials
from idp.services.members import NewMember, create_member, find_by_email
from idp.services.registration import (
    ClientRequest,
)

AIRLINE = "lufthansa"
AIRLINE_NAME = "Lufthansa"
PROFILE_EMAIL = "erika.mustermann@lufthansa-id.example"
#: Printed by ``make demo``; the airline's database holds demo data only.
PROFILE_PASSWORD = "demo-lufthansa-2fa"
CLIENT_NAME = "Login with Miles & More (linked profiles)"
CLIENT_FILE = "linking_client.json"


@dataclass(frozen=True)
class AirlineSeed:
    profile_email: str
    profile_password: str
    totp_secret: str
    client_id: str
    client_secret: str
    redirect_uri: str


def seed_airline(instance_path: Path, provider_issuer: str) -> AirlineSeed:
    """Create the airline's demo rows when missing; commits."""
    member = find_by_email(PROFILE_EMAIL) or create_member(
        NewMember(
            email=PROFILE_EMAIL,
            password=PROFILE_PASSWORD,
            given_name="Erika",
            family_name="Mustermann",
            locale="en",
            totp_secret=pyotp.random_base32(),
            email_verified=True,
        )
    )
    totp_secret = restore_credentials(member.id, PROFILE_PASSWORD)
    partner = demo_partner(AIRLINE_NAME, "lhg_airline")
    redirect_uri = f"{provider_issuer}/linking/{AIRLINE}/callback"
    client, secret = _linking_client(instance_path, partner, redirect_uri)
    return AirlineSeed(
        profile_email=PROFILE_EMAIL,
        profile_password=PROFILE_PASSWORD,
        totp_secret=totp_secret,
        client_id=client.client_id,
        client_secret=secret,
        redirect_uri=redirect_uri,
    )


def _linking_client(instance_path: Path, partner: Partner, redirect_uri: str):
    client, secret = kept_client(
        instance_path / CLIENT_FILE,
        ClientRequest(
            partner_id=partner.id,
            client_name=CLIENT_NAME,
            redirect_uris=[redirect_uri],
            scope="openid",
            purposes=["registration"],
            approved=True,
        ),
    )
    if client.redirect_uris != [redirect_uri]:  # the provider moved to another port
        client.redirect_uris = [redirect_uri]
        audit.record("demo.client_moved", client_id=client.client_id)
        db.session.commit()
    return client, secret
