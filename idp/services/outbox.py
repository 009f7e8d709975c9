"""The partner notification outbox as operators see it: per partner, and ``Retry now``.

Each back-channel logout and security event sent to a partner's clients has a
status: ``pending`` (not tried yet), ``retrying`` (failed, tried again later),
``delivered`` or ``abandoned`` (given up after the last attempt). An operator
may retry any notification not delivered: it is made due at once and tried
in the request, so the operator sees the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import Client, PartnerNotification
from idp.models.types import utcnow
from idp.services import audit
from idp.services import notification_delivery as delivery
from idp.services.errors import Conflict, NotFound

#: The largest id the outbox's (32-bit) key holds; a larger one is no notification.
MAX_ID = 2**31 - 1
#: Notifications listed per partner, newest first.
LISTED = 200


@dataclass
class Entry:
    id: int
    kind: str
    client_id: str
    client_name: str
    created_at: object
    attempts: int
    status: str
    last_error: str | None
    finished_at: object


def status_of(row: PartnerNotification) -> str:
    if row.delivered_at is not None:
        return "delivered"
    if row.abandoned_at is not None:
        return "abandoned"
    return "retrying" if row.attempts else "pending"


def for_partner(partner_id: str) -> list[Entry]:
    rows = db.session.execute(
        select(PartnerNotification, Client.client_id, Client.client_name)
        .join(Client, Client.id == PartnerNotification.client_id)
        .where(Client.partner_id == partner_id)
        .order_by(PartnerNotification.created_at.desc(), PartnerNotification.id.desc())
        .limit(LISTED)
    )
    return [
        Entry(
            id=row.id,
            kind=row.kind,
            client_id=client_id,
            client_name=client_name,
            created_at=row.created_at,
            attempts=row.attempts,
            status=status_of(row),
            last_error=row.last_error,
            finished_at=row.delivered_at or row.abandoned_at,
        )
        for row, client_id, client_name in rows
    ]


def retry_now(notification_id: int, partner_id: str, operator_id: str | None = None) -> str:
    """One attempt now at a notification of ``partner_id``; returns the outcome's status."""
    if not 0 < notification_id <= MAX_ID:
        raise NotFound("No such notification for this partner.", "notification_id")
    found = db.session.execute(
        select(PartnerNotification.id, PartnerNotification.delivered_at, Client.client_id)
        .join(Client, Client.id == PartnerNotification.client_id)
        .where(PartnerNotification.id == notification_id, Client.partner_id == partner_id)
    ).first()
    if found is None:
        raise NotFound("No such notification for this partner.", "notification_id")
    if found.delivered_at is not None:
        raise Conflict("This notification was delivered already.", "notification_id")
    # Due now, and out of the abandoned state for this one attempt.
    db.session.execute(
        update(PartnerNotification)
        .where(
            PartnerNotification.id == notification_id, PartnerNotification.delivered_at.is_(None)
        )
        .values(next_attempt_at=utcnow(), abandoned_at=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "partner_notification.retried",
        member_id=operator_id,
        client_id=found.client_id,
        notification_id=notification_id,
    )
    db.session.commit()
    return delivery.deliver(notification_id).status
