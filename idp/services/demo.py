"""The demo data ``make demo`` starts with: one member, one partner, one approved client.

Seeding is idempotent: a second run finds what the first made and only puts
back what a visitor may have changed (the printed password and a TOTP key), so
the printed credentials always work; when the demo partner website moved to
another address, the demo client's URIs follow it. The demo client's secret is kept in the
instance folder (mode 0600) because only its hash is in the database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyotp
from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Credential, Partner
from idp.models.types import utcnow
from idp.services import audit
from idp.services.members import NewMember, create_member, find_by_email
from idp.services.passwords import hash_password, verify_password
from idp.services.registration import (
    ClientRequest,
    approve_client,
    create_partner,
    get_client,
    register_client,
    rotate_client_secret,
)

DEMO_EMAIL = "demo@miles-and-more.example"
#: Printed by ``make demo``; this database holds demo data only.
DEMO_PASSWORD = "demo-password-2fa"
DEMO_CARD_NUMBER = "992123456789015"
DEMO_PARTNER_NAME = "Demo Partner Shop"
DEMO_CLIENT_NAME = "Demo Partner Shop website"
DEMO_PARTNER_URL = "http://127.0.0.1:5001"
DEMO_SCOPE = "openid profile email card_number miles status offline_access"
DEMO_PURPOSES = ["registration", "miles"]
CLIENT_FILE = "demo_client.json"


@dataclass(frozen=True)
class DemoSeed:
    member_id: str
    email: str
    password: str
    card_number: str
    totp_secret: str
    partner_id: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str


def seed_demo(instance_path: Path, partner_url: str = DEMO_PARTNER_URL) -> DemoSeed:
    """Create the demo rows when missing; commits. Returns what to print and wire up."""
    member = find_by_email(DEMO_EMAIL)
    if member is None:
        member = create_member(
            NewMember(
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                given_name="Erika",
                family_name="Mustermann",
                card_number=DEMO_CARD_NUMBER,
                birthdate="1985-06-14",
                gender="female",
                locale="en",
                status_tier="senator",
                status_miles=112_000,
                miles_balance=48_250,
                totp_secret=pyotp.random_base32(),
                # The demo chose this address itself: it knows the address is the member's.
                email_verified=True,
            )
        )
    totp_secret = restore_credentials(member.id, DEMO_PASSWORD)

    partner = demo_partner(DEMO_PARTNER_NAME, "partner_company")

    redirect_uri = f"{partner_url}/callback"
    post_logout = f"{partner_url}/"
    client, secret = _demo_client(instance_path, partner, redirect_uri, post_logout, partner_url)
    return DemoSeed(
        member_id=member.id,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        card_number=member.card_number or "",
        totp_secret=totp_secret,
        partner_id=partner.id,
        client_id=client.client_id,
        client_secret=secret,
        redirect_uri=redirect_uri,
        post_logout_redirect_uri=post_logout,
    )


def restore_credentials(member_id: str, password: str) -> str:
    """Put back a demo password and a TOTP key if a visitor changed or removed them."""
    credential = db.session.get(Credential, member_id)
    changed = False
    if not verify_password(credential.password_hash, password):
        credential.password_hash = hash_password(password)
        credential.password_changed_at = utcnow()
        changed = True
    if not credential.has_totp:
        credential.totp_secret = pyotp.random_base32()
        credential.totp_enrolled_at = utcnow()
        credential.totp_last_step = None
        changed = True
    if changed:
        audit.record("demo.credentials_restored", member_id=member_id)
        db.session.commit()
    return credential.totp_secret


def _demo_client(
    instance_path: Path, partner: Partner, redirect_uri: str, post_logout: str, partner_url: str
) -> tuple[Client, str]:
    client, secret = kept_client(
        instance_path / CLIENT_FILE,
        ClientRequest(
            partner_id=partner.id,
            client_name=DEMO_CLIENT_NAME,
            redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[post_logout],
            backchannel_logout_uri=f"{partner_url}/backchannel-logout",
            scope=DEMO_SCOPE,
            purposes=list(DEMO_PURPOSES),
            approved=True,
            client_uri=partner_url,
        ),
    )
    _follow_partner(client, redirect_uri, post_logout, partner_url)
    approve_client(client.client_id)
    return client, secret


def demo_partner(name: str, category: str) -> Partner:
    """The demo's partner of this name, made the first time."""
    return db.session.scalar(
        select(Partner)
        .where(Partner.name == name, Partner.category == category)
        .order_by(Partner.created_at)
        .limit(1)
    ) or create_partner(name, category)


def kept_client(client_file: Path, wanted: ClientRequest) -> tuple[Client, str]:
    """The demo client ``wanted`` describes, and its secret, the same from run to run.

    Found through the id kept in ``client_file`` (or by its name at its partner),
    registered from ``wanted`` the first time. Only the secret's hash is stored, so
    the secret comes from the file; when the file lost it, the client gets a new one.
    """
    stored = _read_client_file(client_file)
    client = get_client(stored["client_id"]) if stored else None
    if client is None:
        client = db.session.scalar(
            select(Client)
            .where(Client.partner_id == wanted.partner_id, Client.client_name == wanted.client_name)
            .order_by(Client.id)
            .limit(1)
        )
    if client is None:
        client, secret = register_client(wanted)
    elif (
        stored
        and stored["client_id"] == client.client_id
        and client.check_client_secret(stored["client_secret"])
    ):
        secret = stored["client_secret"]
    else:
        secret = rotate_client_secret(client)
    if stored != {"client_id": client.client_id, "client_secret": secret}:
        _write_client_file(client_file, client.client_id, secret)
    return client, secret


def _follow_partner(client: Client, redirect_uri: str, post_logout: str, partner_url: str) -> None:
    """Point the demo client at the partner website's current address (commits if changed)."""
    wanted = {
        "redirect_uris": [redirect_uri],
        "post_logout_redirect_uris": [post_logout],
        "backchannel_logout_uri": f"{partner_url}/backchannel-logout",
        "client_uri": partner_url,
    }
    changed = {name: value for name, value in wanted.items() if getattr(client, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(client, name, value)
        audit.record("demo.client_moved", client_id=client.client_id)
        db.session.commit()


def _read_client_file(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("client_id", "client_secret")
    ):
        return None
    return {"client_id": data["client_id"], "client_secret": data["client_secret"]}


def _write_client_file(path: Path, client_id: str, secret: str) -> None:
    """Written readable by the owner only, and replaced in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"client_id": client_id, "client_secret": secret}, handle)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
