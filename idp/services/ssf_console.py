"""The Shared Signals streams of a partner's clients as operators see them.

For each client with a stream (OpenID SSF 1.0 §8) or only a
``security_event_uri`` (an implicit push stream, ``ssf_events.publish``): the
delivery method and endpoint, the status, the last delivery (the last push the
receiver accepted, or its last poll), the failed pushes (being retried or
abandoned, in the partner notification outbox), the SETs waiting in the stream
(for a poll, or held by a pause) and the last error: the last failed push's,
or what a poll receiver reported. ``for_client`` is the same figures for one
client, as the developer portal shows them to the partner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Client, PartnerNotification, SsfEvent, SsfStream
from idp.models.ssf import POLL, PUSH
from idp.services.ssf_events import events_delivered


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
    #: SSF §8.1.1: what the receiver asked for, and what of it this transmitter sends.
    events_requested: list[str] = field(default_factory=list)
    events_delivered: list[str] = field(default_factory=list)

    @property
    def polled(self) -> bool:
        return self.method == POLL


def _push_counts(where) -> tuple[datetime | None, int, str | None]:
    """The last accepted push, the failed ones (retrying or abandoned) and the last error."""
    last = db.session.scalar(select(func.max(PartnerNotification.delivered_at)).where(where))
    failed = (
        where,
        PartnerNotification.delivered_at.is_(None),
        (PartnerNotification.attempts > 0) | PartnerNotification.abandoned_at.is_not(None),
    )
    failures = db.session.scalar(select(func.count(PartnerNotification.id)).where(*failed))
    error = db.session.scalar(
        select(PartnerNotification.last_error)
        .where(*failed)
        .order_by(PartnerNotification.id.desc())
        .limit(1)
    )
    return last, failures or 0, error


def _implicit(client: Client) -> StreamState:
    """A ``security_event_uri`` without a stream: a push stream of the legacy SETs."""
    last, failures, error = _push_counts(
        (PartnerNotification.client_id == client.id)
        & (PartnerNotification.kind == "security_event")
        & PartnerNotification.stream_id.is_(None)
    )
    return StreamState(
        client_id=client.client_id,
        client_name=client.client_name,
        stream_id=None,
        method=PUSH,
        endpoint=client.security_event_uri,
        status="enabled",
        last_delivery_at=last,
        failures=failures,
        waiting=0,
        last_error=error,
    )


def _configured(client: Client, stream: SsfStream) -> StreamState:
    last, failures, error = _push_counts(PartnerNotification.stream_id == stream.id)
    if stream.delivery_method == POLL:
        last, error = stream.last_polled_at, stream.last_receiver_error
    waiting = db.session.scalar(
        select(func.count(SsfEvent.id)).where(SsfEvent.stream_id == stream.id)
    )
    return StreamState(
        client_id=client.client_id,
        client_name=client.client_name,
        stream_id=stream.id,
        method=stream.delivery_method,
        endpoint=stream.endpoint_url,
        status=stream.status,
        last_delivery_at=last,
        failures=failures,
        waiting=waiting or 0,
        last_error=error,
        events_requested=list(stream.events_requested or []),
        events_delivered=events_delivered(stream),
    )


def for_partner(partner_id: str) -> list[StreamState]:
    rows = db.session.execute(
        select(Client, SsfStream)
        .outerjoin(SsfStream, SsfStream.client_id == Client.id)
        .where(
            Client.partner_id == partner_id,
            SsfStream.id.is_not(None) | Client.security_event_uri.is_not(None),
        )
        .order_by(Client.client_name, Client.id)
    ).all()
    return [
        _implicit(client) if stream is None else _configured(client, stream)
        for client, stream in rows
    ]


def for_client(client: Client) -> StreamState | None:
    """The client's stream, its implicit push stream, or None when it has neither."""
    stream = db.session.scalar(select(SsfStream).where(SsfStream.client_id == client.id))
    if stream is not None:
        return _configured(client, stream)
    if client.security_event_uri:
        return _implicit(client)
    return None
