"""Activity timestamps kept up to date by reads: a session's last activity, a consent's last use.

``SSOSession.last_seen_at`` (the idle timeout) and ``Consent.last_used_at``
(Connected apps) are read on almost every request and need to be right only
to the ``RESOLUTION`` (a minute). So a read never writes on its way:

- whether a write is due is decided on the row the request loaded anyway (the
  session for its timeouts, the consent for the token check); between two
  writes nothing is queried and nothing is committed;
- a due write waits until the response is ready (``flask.after_this_request``)
  and then runs as one conditional UPDATE in a short transaction of its own:
  the request's own work is committed by its services or abandoned by then;
- the UPDATE's condition (the stored value is still ``RESOLUTION`` old) lets
  one of several concurrent requests write, in whichever process; the others
  change nothing. Each process also remembers which stored value its last
  write replaced, so a request that loaded the row before that write committed
  sends no UPDATE at all.

A row is therefore written at most once per ``RESOLUTION``, and its stored
value is never more than ``RESOLUTION`` behind the last request that used it:
an SSO session idle for ``session_idle_seconds`` still ends, at most a minute
early.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from flask import after_this_request
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from idp import defaults
from idp.extensions import db
from idp.models.types import utcnow

log = logging.getLogger(__name__)

RESOLUTION = timedelta(seconds=defaults.ACTIVITY_RESOLUTION_SECONDS)
#: Rows whose replaced value this process remembers; forgotten all at once beyond.
MEMORY_LIMIT = 10_000

_replaced: dict[tuple[str, str, object], datetime | None] = {}
_lock = threading.Lock()


def due(stamp: datetime | None, now: datetime) -> bool:
    """A write is due when nothing was stored yet or the stored value is RESOLUTION old."""
    return stamp is None or now - stamp >= RESOLUTION


def note(row, attribute: str, *conditions) -> bool:
    """Have ``row.<attribute>`` set to the time of the write, after this request's response.

    Nothing happens when the loaded value is recent, or when this process has
    already replaced it. ``conditions`` narrow the UPDATE further (for example,
    a session ended meanwhile is left alone). Needs a request context. True
    when a write was scheduled.
    """
    seen = getattr(row, attribute)
    if not due(seen, utcnow()):
        return False
    model = type(row)
    row_id = row.id
    key = (model.__tablename__, attribute, row_id)
    with _lock:
        if key in _replaced and _replaced[key] == seen:
            return False

    @after_this_request
    def _write_after(response):
        write(model, row_id=row_id, attribute=attribute, seen=seen, conditions=conditions)
        return response

    return True


def write(model, *, row_id, attribute: str, seen: datetime | None, conditions=()) -> bool:
    """The conditional UPDATE in a transaction of its own; True when it changed the row.

    A failure is logged and rolled back: a late timestamp must not fail the
    response it follows.
    """
    column = getattr(model, attribute)
    now = utcnow()
    db.session.rollback()  # whatever the request left uncommitted is not part of this write
    try:
        result = db.session.execute(
            update(model)
            .where(
                model.id == row_id,
                or_(column.is_(None), column <= now - RESOLUTION),
                *conditions,
            )
            .values({attribute: now})
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("could not record %s of %s %s", attribute, model.__tablename__, row_id)
        return False
    with _lock:
        if len(_replaced) >= MEMORY_LIMIT:
            _replaced.clear()
        # Written now, or the row no longer qualifies (another process wrote first):
        # a request that loaded ``seen`` has nothing left to write.
        _replaced[(model.__tablename__, attribute, row_id)] = seen
    return result.rowcount == 1
