"""Stop sharing one optional data item with a partner, at once (INTERFACE.md, Connected apps).

The member's standing consent at every client of the partner loses the scope
(``idp.services.consent.narrow``), which is the one check every token passes
on every use (``consent.covered_scopes``): from the commit on, UserInfo and the
miles API stop releasing the item, introspection answers the reduced
``scope``, and the next refresh returns it (RFC 6749 §6 allows a narrower
scope than the refresh token's). The refresh grant reads the consent again
under a row lock after claiming its token, so no refresh that starts after
the commit returns the item. Required scopes (those of a contract purpose)
cannot be stopped; withdrawing the whole consent is Revoke access. A claim the
member granted by itself (asked for through the OIDC ``claims`` parameter) is
an optional item of its own and stops the same way (``stop_sharing_claim``).

The change is evidence (a ``narrowed`` consent record), an audit event, and a
notification: an RFC 8417 Security Event Token for each client, through its
Shared Signals stream or pushed (RFC 8935) to its ``security_event_uri``
(``ssf_events.publish``), carrying the CAEP ``token-claims-change``
event (OpenID CAEP 1.0 §3.2) whose ``claims`` give the new ``scope``.
All of it in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from idp.catalog import required_scopes
from idp.extensions import db
from idp.models import Client, Consent, Member, Partner
from idp.models.types import utcnow
from idp.services import audit, consent_changes, ssf_events
from idp.services import consent as consents
from idp.services.errors import InvalidInput, NotFound
from idp.services.security_events import member_event_claims

TOKEN_CLAIMS_CHANGE_EVENT = ssf_events.TOKEN_CLAIMS_CHANGE


class NotShared(InvalidInput):
    """The partner does not receive this item."""


class RequiredItem(InvalidInput):
    """A contract purpose needs this item: only Revoke access ends it."""


@dataclass
class Narrowing:
    """What one Stop sharing did."""

    scope: str
    consents_narrowed: int
    notifications_queued: int


def locked_consents_at_partner(member_id: str, partner_id: str) -> list[Consent]:
    """The member's consents in force at every client of the partner, locked until the commit.

    The first statement is a write on those rows, so it takes the row locks on
    PostgreSQL and SQLite's write lock alike; the rows are then read as stored.
    Raises ``NotFound`` for an unknown partner.
    """
    if db.session.get(Partner, partner_id) is None:
        raise NotFound("There is no such partner.")
    client_ids = select(Client.id).where(Client.partner_id == partner_id).scalar_subquery()
    where = (
        Consent.member_id == member_id,
        Consent.client_id.in_(client_ids),
        Consent.withdrawn_at.is_(None),
    )
    db.session.execute(
        update(Consent)
        .where(*where)
        .values(updated_at=Consent.updated_at)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.scalars(
        select(Consent).where(*where).execution_options(populate_existing=True)
    )
    now = utcnow()
    return [c for c in rows if consents.in_force(c, now)]


def optional_scopes(consent: Consent) -> set[str]:
    """The data items of a consent the member may stop sharing: not needed by a contract."""
    return consents.data_scopes(consent.scopes) - required_scopes(consent.client.purposes)


def security_event_claims(client: Client, member: Member, consent: Consent, scope: str) -> dict:
    """The SET of a Stop sharing, less what is set at signing (``iat``, ``jti``).

    ``scope`` names the item stopped: a scope, or a claim granted by itself. The
    event's ``claims`` give the new ``scope`` and, when the consent ever had claims
    granted by themselves, those that remain (``granted_claims``)."""
    changed: dict = {"scope": consent.scope}
    if consent.granted_claims or consent.declined_claims:
        changed["granted_claims"] = list(consent.granted_claims or [])
    return member_event_claims(
        client,
        member,
        lambda subject, now: {
            TOKEN_CLAIMS_CHANGE_EVENT: {
                "subject": subject,
                "event_timestamp": now,
                "initiating_entity": "user",
                "reason_admin": {"en": f"The member stopped sharing {scope}."},
                "claims": changed,
            },
        },
    )


def stop_sharing(member_id: str, partner_id: str, scope: str) -> Narrowing:
    """Take the optional ``scope`` out of the member's consent at the partner. Commits.

    Raises ``NotFound`` for an unknown partner and ``InvalidInput`` for a scope
    the partner does not hold or one a contract purpose needs; nothing is
    written then.
    """
    member = db.session.get(Member, member_id)
    standing = locked_consents_at_partner(member_id, partner_id)
    holding = [c for c in standing if scope in consents.data_scopes(c.scopes)]
    if member is None or not holding:
        db.session.rollback()
        raise NotShared("This partner does not receive this item.", field="scope")
    if any(scope not in optional_scopes(c) for c in holding):
        db.session.rollback()
        raise RequiredItem(
            "This item is needed for the service; revoke access to stop it.", field="scope"
        )
    return _narrow(member, partner_id, holding, scope, consent_changes.narrow)


def stop_sharing_claim(member_id: str, partner_id: str, claim: str) -> Narrowing:
    """Take a claim the member granted by itself (asked for through the ``claims``
    parameter) out of their consent at the partner. Commits.

    Such a claim is always optional. Raises ``NotFound`` for an unknown partner and
    ``NotShared`` for a claim no consent there grants by itself; nothing is written then.
    """
    member = db.session.get(Member, member_id)
    standing = locked_consents_at_partner(member_id, partner_id)
    holding = [c for c in standing if claim in (c.granted_claims or ())]
    if member is None or not holding:
        db.session.rollback()
        raise NotShared("This partner does not receive this item.", field="claim")
    return _narrow(member, partner_id, holding, claim, consent_changes.narrow_claim, kind="claim")


def _narrow(member, partner_id, holding, item, narrow, kind="scope") -> Narrowing:
    queued = 0
    for consent in holding:
        narrow(consent, item)
        client = consent.client
        queued += ssf_events.publish(client, security_event_claims(client, member, consent, item))
    audit.record(
        "consent.narrowed",
        member_id=member.id,
        partner_id=partner_id,
        **{kind: item},
        consent_ids=sorted(c.id for c in holding),
        notifications=queued,
    )
    db.session.commit()
    return Narrowing(item, len(holding), queued)
