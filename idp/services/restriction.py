"""Pausing a partner: the restriction of processing of GDPR Art. 18.

``pause_partner`` marks the member's consents at every client of the partner
paused (``idp.services.consent.pause``): they stay in force and listed under
Connected apps, but no token issued under them works (introspection
``active: false``, UserInfo and the miles API ``invalid_token``, refresh
``invalid_grant``) and a new authorization at the partner is refused with
``access_denied`` (``interaction.require_consent``), so nothing is released.
``resume_partner`` lifts the pause: the tokens that have not expired work
again, as they are (the consent's period runs on during the pause).

Each is evidence (a ``paused`` or ``resumed`` consent record) and an audit
event, and the partner is told by a Security Event Token (RFC 8417, through
its Shared Signals stream or pushed per RFC 8935 to ``security_event_uri``:
``ssf_events.publish``) with the provider's own event
``<issuer>/secevent/consent-paused`` or ``<issuer>/secevent/consent-resumed``.
All in one transaction.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, Consent, Member
from idp.services import audit, consent_changes, ssf_events
from idp.services import consent as consents
from idp.services.errors import Conflict, InvalidInput
from idp.services.narrowing import locked_consents_at_partner
from idp.services.security_events import member_event_claims

#: Appended to the issuer: the event type URIs of a pause and of a resume.
CONSENT_PAUSED_PATH = ssf_events.CONSENT_PAUSED_PATH
CONSENT_RESUMED_PATH = ssf_events.CONSENT_RESUMED_PATH


def event_type(path: str) -> str:
    return current_app.config["IDP"].issuer.rstrip("/") + path


def security_event_claims(client: Client, member: Member, consent: Consent, path: str) -> dict:
    """The SET of a pause or resume, less what is set at signing (``iat``, ``jti``)."""
    return member_event_claims(
        client,
        member,
        lambda subject, now: {
            event_type(path): {
                "subject": subject,
                "event_timestamp": now,
                "scope": consent.scope,
                "purposes": list(consent.purposes or []),
                "initiator": "member",
            },
        },
    )


def partner_paused(member_id: str, client: Client) -> bool:
    """The member paused the partner of ``client``: no authorization there releases anything."""
    paused = db.session.scalar(
        select(Consent.id)
        .join(Client, Client.id == Consent.client_id)
        .where(
            Consent.member_id == member_id,
            Client.partner_id == client.partner_id,
            Consent.withdrawn_at.is_(None),
            Consent.paused_at.is_not(None),
        )
        .limit(1)
    )
    return paused is not None


def pause_partner(member_id: str, partner_id: str) -> int:
    """Pause every consent of the member at the partner; returns how many. Commits.

    Raises ``NotFound`` (unknown partner), ``InvalidInput`` (nothing to pause) or
    ``Conflict`` (paused already); nothing is written then.
    """
    return _change(member_id, partner_id, pausing=True)


def resume_partner(member_id: str, partner_id: str) -> int:
    """Resume every paused consent of the member at the partner; returns how many. Commits."""
    return _change(member_id, partner_id, pausing=False)


def _change(member_id: str, partner_id: str, pausing: bool) -> int:
    member = db.session.get(Member, member_id)
    standing = locked_consents_at_partner(member_id, partner_id)
    if member is None or not standing:
        db.session.rollback()
        raise InvalidInput("This partner receives no data from your account.")
    changing = [c for c in standing if consents.is_paused(c) != pausing]
    if not changing:
        db.session.rollback()
        raise Conflict("Paused already." if pausing else "Not paused.")
    path = CONSENT_PAUSED_PATH if pausing else CONSENT_RESUMED_PATH
    queued = 0
    for consent in changing:
        (consent_changes.pause if pausing else consent_changes.resume)(consent)
        client = consent.client
        queued += ssf_events.publish(client, security_event_claims(client, member, consent, path))
    audit.record(
        "consent.paused" if pausing else "consent.resumed",
        member_id=member_id,
        partner_id=partner_id,
        consent_ids=sorted(c.id for c in changing),
        notifications=queued,
    )
    db.session.commit()
    return len(changing)
