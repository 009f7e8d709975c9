"""Grants as partners see them (Grant Management for OAuth 2.0, draft 03).

A grant is the member's consent at one client (``idp.models.Consent``), named
towards that client by its ``grant_id``. This provider keeps one standing
consent per member and client, so there are no concurrent grants (§3.5): a
new decision always lands on the one grant.

- ``held_grant``: the grant a client names at the authorization endpoint
  (``grant_id`` with ``merge`` or ``replace``): this member's, this client's,
  not withdrawn. An expired grant still counts: the authorization renews it
  through the consent screen.
- ``grant_of_client``: the grant a client names at the grant management API:
  its own, in force (not withdrawn, not expired). Anything else is unknown to
  that client, whoever holds it.
- ``describe``: the query answer of §6.4, from the consent as it stands now:
  a Stop sharing narrows it at once, and a paused grant releases nothing, so
  it answers no scope and no claim while paused (extension member ``status``).
- ``revoke``: §6.5, the member's withdrawal at that one client, recorded with
  actor ``partner`` (``idp.services.withdrawal.withdraw_grant``).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from idp.catalog import claims_for_scopes
from idp.extensions import db
from idp.models import Client, ClientRecord, Consent, ConsentRecord
from idp.models.types import utcnow
from idp.services import consent as consents
from idp.services import withdrawal
from idp.services.errors import NotFound

#: Grant management actions this provider supports (§7.1 ``grant_management_actions_supported``).
ACTIONS_SUPPORTED = ("query", "revoke", "create", "merge", "replace")
#: The values of ``grant_management_action`` at the authorization endpoint (§5.2).
AUTHORIZATION_ACTIONS = ("create", "merge", "replace")
#: What a grant_id of this provider looks like (URL-safe base64, ``new_grant_id``); anything
#: else is no grant of ours and is never looked up.
GRANT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: ``updated_by`` (§6.4): a decision the client asked for, or a change made here.
CLIENT_ACTIONS = ("given", "changed")


class UnknownGrant(NotFound):
    """No grant of this client by that identifier (§6.6: 404)."""


def well_formed(grant_id: str | None) -> bool:
    return bool(grant_id) and GRANT_ID.fullmatch(grant_id) is not None


def held_grant(grant_id: str, member_id: str, client: Client | ClientRecord) -> Consent | None:
    """The grant ``grant_id`` when it is this member's at this client and not withdrawn."""
    if not well_formed(grant_id):
        return None
    return db.session.scalar(
        select(Consent).where(
            Consent.grant_id == grant_id,
            Consent.member_id == member_id,
            Consent.client_id == client.id,
            Consent.withdrawn_at.is_(None),
        )
    )


def grant_of_client(grant_id: str, client: Client | ClientRecord) -> Consent:
    """The client's own grant in force; ``UnknownGrant`` for anything else."""
    consent = None
    if well_formed(grant_id):
        consent = db.session.scalar(
            select(Consent).where(Consent.grant_id == grant_id, Consent.client_id == client.id)
        )
    if not consents.in_force(consent, utcnow()):
        raise UnknownGrant("The client holds no grant with this grant_id.")
    return consent


def _updated_by(consent: Consent) -> str:
    action = db.session.scalar(
        select(ConsentRecord.action)
        .where(ConsentRecord.consent_id == consent.id)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )
    return "client" if action in CLIENT_ACTIONS else "authorization_server"


def describe(consent: Consent) -> dict:
    """§6.4: the grant's scopes and claims as the consent covers them now, and its times."""
    paused = consents.is_paused(consent)
    scopes = [] if paused else sorted(consent.scopes)
    body: dict = {
        "scopes": [{"scope": " ".join(scopes)}] if scopes else [],
        "claims": sorted(claims_for_scopes(scopes)),
        "created_at": int(consent.granted_at.timestamp()),
        "last_updated_at": int(consent.updated_at.timestamp()),
        "updated_by": _updated_by(consent),
        # Extension members (§6.4 allows them): the member's pause, and the purposes.
        "status": "paused" if paused else "active",
        "purposes": [] if paused else list(consent.purposes or []),
    }
    if consent.expires_at is not None:
        body["expires_at"] = int(consent.expires_at.timestamp())
    return body


def revoke(consent: Consent) -> withdrawal.Withdrawal:
    """§6.5: the grant ends as if the member had withdrawn it there. Commits."""
    return withdrawal.withdraw_grant(consent, actor="partner")
