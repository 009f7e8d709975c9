"""Records security events in the append-only audit log.

Never put a secret, a token, a code or a password in ``details``; identifiers
and outcomes only.
"""

from __future__ import annotations

import logging

from flask import has_request_context, request
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from idp.extensions import db
from idp.models import AuditEvent
from idp.models.types import utcnow

log = logging.getLogger(__name__)

#: Events of the session's open transaction, counted in the metrics once it commits.
_SESSION_KEY = "idp.audit_events"

FORBIDDEN_DETAIL_KEYS = {"password", "code", "token", "secret", "access_token", "refresh_token"}


def record(
    event: str,
    *,
    member_id: str | None = None,
    client_id: str | None = None,
    **details,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    entry = AuditEvent(**entry_values(event, member_id=member_id, client_id=client_id, **details))
    db.session.add(entry)
    return entry


def entry_values(
    event: str,
    *,
    member_id: str | None = None,
    client_id: str | None = None,
    **details,
) -> dict:
    """The column values of an audit event of the current transaction (the caller commits).

    For a caller that inserts the row with a statement of its own (token
    issuance puts it in the same round trip as the token); ``record`` adds it
    through the session. Either way the event is counted once the transaction
    commits.
    """
    leaked = FORBIDDEN_DETAIL_KEYS & set(details)
    if leaked:
        raise ValueError(f"audit details must not carry secrets: {sorted(leaked)}")
    ip_address = request.remote_addr if has_request_context() else None
    db.session.info.setdefault(_SESSION_KEY, []).append((event, details))
    log.info("audit %s member=%s client=%s", event, member_id, client_id)
    return {
        "occurred_at": utcnow(),
        "event": event,
        "member_id": member_id,
        "client_id": client_id,
        "ip_address": ip_address,
        "details": details,
    }


@orm_event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    events = session.info.pop(_SESSION_KEY, None)
    if events:
        # Imported here: see idp.observability.metrics on when prometheus_client loads.
        from idp.observability import metrics

        metrics.count_audit_events(events)


@orm_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_SESSION_KEY, None)
