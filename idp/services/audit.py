"""Records security events in the append-only audit log.

Never put a secret, a token, a code or a password in ``details``; identifiers
and outcomes only.
"""

from __future__ import annotations

import logging

from flask import has_request_context, request

from idp.extensions import db
from idp.models import AuditEvent

log = logging.getLogger(__name__)

FORBIDDEN_DETAIL_KEYS = {"password", "code", "token", "secret", "access_token", "refresh_token"}


def record(
    event: str,
    *,
    member_id: str | None = None,
    client_id: str | None = None,
    **details,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    leaked = FORBIDDEN_DETAIL_KEYS & set(details)
    if leaked:
        raise ValueError(f"audit details must not carry secrets: {sorted(leaked)}")
    ip_address = request.remote_addr if has_request_context() else None
    entry = AuditEvent(
        event=event,
        member_id=member_id,
        client_id=client_id,
        ip_address=ip_address,
        details=details,
    )
    db.session.add(entry)
    log.info("audit %s member=%s client=%s", event, member_id, client_id)
    return entry
