"""Poll-based SET delivery (RFC 8936) from a Shared Signals stream.

The receiver POSTs ``{"maxEvents", "returnImmediately", "ack", "setErrs"}``
(§2.4). First the SETs it acknowledges (``ack``) or reports as failed
(``setErrs``, §2.4.3) leave the stream's queue, in one commit; a report is
audited and kept as the stream's last receiver error for the operators. Then up
to ``maxEvents`` SETs still waiting (oldest first, not held by a pause) are
answered as ``{"sets": {jti: SET}, "moreAvailable": bool}`` (§2.5). A SET stays
queued until it is acknowledged, so a lost answer costs nothing: the next poll
returns it again, with the same ``jti``.

Without ``returnImmediately: true`` and with nothing waiting, the request is
held (long polling, §2.4.1) for at most ``LONG_POLL_SECONDS``, looking again
every ``LONG_POLL_STEP`` without a transaction open in between.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from idp import defaults
from idp.extensions import db
from idp.models import SsfEvent, SsfStream
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, signing_keys
from idp.services.errors import InvalidInput

LONG_POLL_SECONDS = defaults.SSF_LONG_POLL_SECONDS
LONG_POLL_STEP = 0.25
MAX_EVENTS = defaults.SSF_MAX_EVENTS
MAX_ACKS = 1000
MAX_JTI = 64
MAX_TEXT = 500


@dataclass
class PollRequest:
    max_events: int = MAX_EVENTS
    return_immediately: bool = False
    ack: list[str] = field(default_factory=list)
    errors: dict[str, dict] = field(default_factory=dict)


def _jti(value, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_JTI or not is_text(value):
        raise InvalidInput(f"{name} must hold the jti values of SETs.", name)
    return value


def read_request(document) -> PollRequest:
    """§2.4: the poll request, every member checked; raises ``InvalidInput``."""
    if not isinstance(document, dict):
        raise InvalidInput("The poll request must be a JSON object.")
    poll = PollRequest()
    if "maxEvents" in document:
        value = document["maxEvents"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput("maxEvents must be a whole number of at least 0.", "maxEvents")
        poll.max_events = min(value, MAX_EVENTS)
    if "returnImmediately" in document:
        if not isinstance(document["returnImmediately"], bool):
            raise InvalidInput("returnImmediately must be true or false.", "returnImmediately")
        poll.return_immediately = document["returnImmediately"]
    acks = document.get("ack", [])
    if not isinstance(acks, list) or len(acks) > MAX_ACKS:
        raise InvalidInput(f"ack must be a list of at most {MAX_ACKS} jti values.", "ack")
    poll.ack = list(dict.fromkeys(_jti(a, "ack") for a in acks))
    errors = document.get("setErrs", {})
    if not isinstance(errors, dict) or len(errors) > MAX_ACKS:
        raise InvalidInput("setErrs must be an object of jti values.", "setErrs")
    for jti, report in errors.items():
        _jti(jti, "setErrs")
        if not isinstance(report, dict) or not all(
            isinstance(report.get(k, ""), str) and len(report.get(k, "")) <= MAX_TEXT
            for k in ("err", "description")
        ):
            raise InvalidInput("Each setErrs entry needs err and description text.", "setErrs")
        poll.errors[jti] = {
            "err": report.get("err", ""),
            "description": report.get("description", ""),
        }
    return poll


def acknowledge(stream: SsfStream, poll: PollRequest) -> int:
    """Drop the SETs the receiver acknowledged or reported; note the poll. Commits."""
    done = [*poll.ack, *poll.errors]
    removed = 0
    if done:
        removed = db.session.execute(
            delete(SsfEvent)
            .where(SsfEvent.stream_id == stream.id, SsfEvent.jti.in_(done))
            .execution_options(synchronize_session=False)
        ).rowcount
    if poll.errors:
        jti, report = sorted(poll.errors.items())[-1]
        stream.last_receiver_error = f"{report['err']}: {report['description']}"[:MAX_TEXT]
        audit.record(
            "ssf.set_errors",
            client_id=stream.client.client_id,
            stream_id=stream.id,
            errors={j: r["err"] for j, r in poll.errors.items()},
        )
    stream.last_polled_at = utcnow()
    db.session.commit()
    return removed


def waiting(stream_id: str, limit: int) -> list[SsfEvent]:
    rows = db.session.scalars(
        select(SsfEvent)
        .where(SsfEvent.stream_id == stream_id, SsfEvent.held.is_(False))
        .order_by(SsfEvent.id)
        .limit(limit)
    )
    return list(rows)


def _signed(row: SsfEvent) -> str:
    payload = json.loads(row.payload)
    return signing_keys.sign(payload["claims"], alg=payload["alg"], typ="secevent+jwt")


def poll(stream: SsfStream, request: PollRequest) -> dict:
    """§2.4-§2.5: acknowledge, then answer what waits (long polling when asked)."""
    stream_id = stream.id
    acknowledge(stream, request)
    if request.max_events == 0:
        return {"sets": {}, "moreAvailable": bool(waiting(stream_id, 1))}
    deadline = time.monotonic() + (0 if request.return_immediately else LONG_POLL_SECONDS)
    while True:
        rows = waiting(stream_id, request.max_events + 1)
        if rows or time.monotonic() >= deadline:
            break
        db.session.commit()  # no snapshot or lock held while waiting
        time.sleep(LONG_POLL_STEP)
    sets = {row.jti: _signed(row) for row in rows[: request.max_events]}
    more = len(rows) > request.max_events
    db.session.commit()
    return {"sets": sets, "moreAvailable": more}
