"""Searching the audit log for operators, and exporting what was found (SPEC.md §11).

A search names any of: a member (id, email address or card number), a
partner (its clients' events and the events naming it), a client, an event
type (``client.approved``, or a prefix ending in a dot such as ``login.``),
and a period of days in UTC. Results come newest first. The events of a
deleted account are blocked (``idp.services.account_deletion``): no search
finds them, until ``mam-idp purge`` erases them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from idp.extensions import db
from idp.models import AuditEvent, Client, MemberErasure
from idp.services.errors import InvalidInput, NotFound
from idp.services.member_reference import find_member
from idp.services.partners import find_partner

#: Rows shown on a page, and the most an export holds.
PAGE_ROWS = 200
EXPORT_ROWS = 10_000
FIELDS = ("occurred_at", "event", "member_id", "client_id", "ip_address", "details")


@dataclass
class AuditQuery:
    member: str = ""
    partner_id: str = ""
    client_id: str = ""
    event: str = ""
    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def search(query: AuditQuery, limit: int = PAGE_ROWS) -> list[AuditEvent]:
    """Events matching ``query``; a deleted account's events are blocked and never found."""
    blocked = select(MemberErasure.member_id)
    statement = select(AuditEvent).where(
        or_(AuditEvent.member_id.is_(None), AuditEvent.member_id.not_in(blocked))
    )
    if query.member:
        member = find_member(query.member)
        if member is None:
            raise NotFound("No member with this id, email address or card number.", "member")
        statement = statement.where(AuditEvent.member_id == member.id)
    if query.partner_id:
        partner = find_partner(query.partner_id)
        if partner is None:
            raise NotFound("No partner with this id.", "partner_id")
        client_ids = select(Client.client_id).where(Client.partner_id == partner.id)
        statement = statement.where(
            or_(
                AuditEvent.client_id.in_(client_ids),
                AuditEvent.details["partner_id"].as_string() == partner.id,
            )
        )
    if query.client_id:
        statement = statement.where(AuditEvent.client_id == query.client_id)
    if query.event:
        if query.event.endswith("."):
            statement = statement.where(AuditEvent.event.startswith(query.event, autoescape=True))
        else:
            statement = statement.where(AuditEvent.event == query.event)
    if query.since and query.until and query.since > query.until:
        raise InvalidInput("The first day is after the last.", "since")
    if query.since:
        statement = statement.where(AuditEvent.occurred_at >= _day_start(query.since))
    if query.until:
        statement = statement.where(
            AuditEvent.occurred_at < _day_start(query.until + timedelta(days=1))
        )
    statement = statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return list(db.session.scalars(statement.limit(limit)))


def as_dict(entry: AuditEvent) -> dict:
    return {
        "occurred_at": entry.occurred_at.isoformat(),
        "event": entry.event,
        "member_id": entry.member_id,
        "client_id": entry.client_id,
        "ip_address": entry.ip_address,
        "details": entry.details or {},
    }


def as_json(entries: list[AuditEvent]) -> str:
    return json.dumps({"events": [as_dict(e) for e in entries]}, sort_keys=True)


def _cell(value) -> str:
    """A spreadsheet reads a cell starting ``=``, ``+``, ``-`` or ``@`` as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(entries: list[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for entry in entries:
        row = as_dict(entry)
        row["details"] = json.dumps(row["details"], sort_keys=True)
        writer.writerow([_cell(row[name]) for name in FIELDS])
    return out.getvalue()
