"""The Shared Signals streams of a partner's clients as operators see them.

For each client with a stream (OpenID SSF 1.0 §8) or only a
``security_event_uri`` (an implicit push stream, ``ssf_events.publish``): the
delivery method and endpoint, the status, the last delivery (the last push the
receiver accepted, or its last poll), the failed pushes (being retried or
abandoned, in the partner notification outbox), the SETs waiting in the stream
(for a poll, or held by a pause) and the last error a poll receiver reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Client, PartnerNotification, SsfEvent, SsfStream
from idp.models.ssf import POLL, PUSH


@dataclass
class StreamState:
    client_id: str
    client_name: str
    #: None for the implicit push stream of a ``security_event_uri``.
    stream_id: str | None
    method: str
    endpoint: str | None
    status: str
    last_delivery_at: datetime | None
    failures: int
    waiting: int
    last_error: str | None

    @property
    def polled(self) -> bool:
        return self.method == POLL


def _push_counts(where) -> tuple[datetime | None, int]:
    last = db.session.scalar(select(func.max(PartnerNotification.delivered_at)).where(where))
    failures = db.session.scalar(
        select(func.count(PartnerNotification.id)).where(
            where,
            PartnerNotification.delivered_at.is_(None),
            (PartnerNotification.attempts > 0) | PartnerNotification.abandoned_at.is_not(None),
        )
    )
    return last, failures or 0


def for_partner(partner_id: str) -> list[StreamState]:
    clients = db.session.execute(
        select(Client, SsfStream)
        .outerjoin(SsfStream, SsfStream.client_id == Client.id)
        .where(
            Client.partner_id == partner_id,
            SsfStream.id.is_not(None) | Client.security_event_uri.is_not(None),
        )
        .order_by(Client.client_name, Client.id)
    ).all()
    states = []
    for client, stream in clients:
        if stream is None:
            where = (
                (PartnerNotification.client_id == client.id)
                & (PartnerNotification.kind == "security_event")
                & PartnerNotification.stream_id.is_(None)
            )
            last, failures = _push_counts(where)
            states.append(
                StreamState(
                    client.client_id,
                    client.client_name,
                    None,
                    PUSH,
                    client.security_event_uri,
                    "enabled",
                    last,
                    failures,
                    0,
                    None,
                )  # fmt: skip
            )
            continue
        last, failures = _push_counts(PartnerNotification.stream_id == stream.id)
        if stream.delivery_method == POLL:
            last = stream.last_polled_at
        waiting = db.session.scalar(
            select(func.count(SsfEvent.id)).where(SsfEvent.stream_id == stream.id)
        )
        states.append(
            StreamState(
                client.client_id,
                client.client_name,
                stream.id,
                stream.delivery_method,
                stream.endpoint_url,
                stream.status,
                last,
                failures,
                waiting or 0,
                stream.last_receiver_error,
            )  # fmt: skip
        )
    return states
