"""How partners use a member's consent: when they last did ("last use" under Connected
apps) and what they read (``PartnerAccess``: per data scope and day, how many times).

Last use: noted on every successful bearer call and written at most once per
``activity.RESOLUTION`` per consent, after the response
(``idp.services.activity``): the check reads the consent the token check
loaded already, so a call in between queries and writes nothing.
Issuing tokens notes the use too, in the transaction that issues them (``consent.touch``).

What was read: every read that releases member data counts once per data scope
released, for the member, the partner and the day (UTC), in one atomic
``INSERT ... ON CONFLICT DO UPDATE SET count = count + 1`` (SQLite 3.24+ and
PostgreSQL), so concurrent reads in any number of processes add up exactly and
the hot path costs one statement with no read before it. The categories come
from the claims actually released (``idp.catalog.data_scopes_of_claims``): a
claim left out (empty, or not asked for in an ID token) is not counted as read.
"""

from __future__ import annotations

import logging

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from idp.catalog import data_scopes_of_claims
from idp.extensions import db
from idp.models import Consent, PartnerAccess
from idp.models.types import utcnow
from idp.services import activity

log = logging.getLogger(__name__)


class ReadNotRecorded(RuntimeError):
    """A read could not be recorded; the data must not leave without its record."""


def record_use(consent: Consent | None) -> bool:
    """Note that a token of ``consent`` was used now; True when a write was scheduled."""
    if consent is None:
        return False
    return activity.note(consent, "last_used_at")


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def count_read(member_id: str, partner_id: str, claims) -> set[str]:
    """Count one read of the data scopes of ``claims`` in the caller's transaction (the
    caller commits). Returns the categories counted (none: nothing is written)."""
    categories = data_scopes_of_claims(claims)
    if not categories:
        return categories
    table = PartnerAccess.__table__
    day = utcnow().date()
    # Sorted, so that two transactions lock the rows of one member in the same order.
    rows = [
        {"member_id": member_id, "partner_id": partner_id, "category": c, "day": day, "count": 1}
        for c in sorted(categories)
    ]
    statement = _insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.partner_id, table.c.category, table.c.day],
        set_={"count": table.c.count + 1},
    )
    db.session.execute(statement)
    return categories


def record_read(member_id: str, partner_id: str, claims) -> set[str]:
    """Count one read by a bearer call, committed before the data is sent. Commits.

    Raises ``ReadNotRecorded`` when the database refuses the write: the caller then
    answers with an error rather than release data nobody would know was read.
    """
    claims = list(claims)
    if not data_scopes_of_claims(claims):
        return set()
    db.session.rollback()  # only this count goes into the transaction it commits
    try:
        categories = count_read(member_id, partner_id, claims)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("could not record a read by partner %s: %s", partner_id, type(exc).__name__)
        raise ReadNotRecorded(partner_id) from exc
    return categories
