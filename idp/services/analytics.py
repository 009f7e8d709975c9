"""Login analytics for Miles & More (SPEC.md §10, Art. 6(1)(f)): which partner websites
members log in to, per partner and day, with nobody's name in it.

Counted as things happen, in the transaction that does them:

- a login (``count_login``): an authorization code exchanged for tokens at one
  of the partner's clients, i.e. a login that reached the partner;
- a distinct member: the first such login of the member at the partner that
  day (UTC). The day keeps a marker per (partner, member): an HMAC-SHA-256 of
  both ids under a key derived from the provider's secret key and the day.
  The marker names nobody, and the markers of every earlier day are deleted
  at the first login of a new day, so once a day is over only its numbers
  remain. The count is exact (no sketch, no error); what it costs is one
  64-character row per member and partner for the current day only;
- a new consent or a withdrawal (``count_consent``): a consent record
  ``given`` or ``withdrawn``.

Each count is one atomic ``INSERT ... ON CONFLICT DO UPDATE`` (SQLite 3.24+
and PostgreSQL), so parallel logins in any number of processes add up exactly.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from idp.extensions import db
from idp.models import Client, Consent, LoginDay, LoginDayMarker, Partner
from idp.models.types import utcnow
from idp.services.errors import InvalidInput, NotFound

#: Consent record actions counted, and the column each adds to.
CONSENT_COUNTERS = {"given": "new_consents", "withdrawn": "withdrawals"}
#: The longest period one report covers.
MAX_DAYS = 366
FIELDS = ("day", "logins", "members", "new_consents", "withdrawals")


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _add(partner_id: str, day: date, **counts: int) -> None:
    table = LoginDay.__table__
    statement = _insert(table).values(partner_id=partner_id, day=day, **counts)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.partner_id, table.c.day],
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )
    db.session.execute(statement)


def _marker(day: date, partner_id: str, member_id: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    day_key = hmac.new(secret, f"login-day:{day.isoformat()}".encode(), hashlib.sha256).digest()
    return hmac.new(day_key, f"{partner_id}:{member_id}".encode(), hashlib.sha256).hexdigest()


def _first_today(day: date, partner_id: str, member_id: str) -> bool:
    """Mark the member counted at the partner today; True when this is the first time."""
    table = LoginDayMarker.__table__
    marker = _marker(day, partner_id, member_id)
    # RETURNING answers a row only when this insert made it (rowcount is not reliable
    # for ON CONFLICT DO NOTHING on every driver).
    inserted = db.session.execute(
        _insert(table)
        .values(day=day, marker=marker)
        .on_conflict_do_nothing()
        .returning(table.c.marker)
    ).first()
    if inserted is None:
        return False
    # The first marker of a new day anywhere: nobody needs the older ones any more.
    if db.session.scalar(select(LoginDayMarker.day).where(LoginDayMarker.day < day).limit(1)):
        db.session.execute(delete(LoginDayMarker).where(LoginDayMarker.day < day))
    return True


def count_login(partner_id: str, member_id: str) -> None:
    """One login of a member at a partner, in the caller's transaction (the caller commits)."""
    day = utcnow().date()
    first = _first_today(day, partner_id, member_id)
    _add(partner_id, day, logins=1, members=1 if first else 0)


def count_consent(consent: Consent, action: str) -> None:
    """A consent given or withdrawn, in the caller's transaction; other actions are not counted."""
    column = CONSENT_COUNTERS.get(action)
    if column is None:
        return
    partner_id = db.session.scalar(select(Client.partner_id).where(Client.id == consent.client_id))
    if partner_id is not None:
        _add(partner_id, utcnow().date(), **{column: 1})


# -- reading ---------------------------------------------------------------------


@dataclass
class Day:
    day: date
    logins: int = 0
    members: int = 0
    new_consents: int = 0
    withdrawals: int = 0

    def as_dict(self) -> dict:
        values = asdict(self)
        values["day"] = self.day.isoformat()
        return values


def parse_day(value: str | None, field: str = "since") -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("Give the day as YYYY-MM-DD.", field) from None


def report(partner_id: str, since: date, until: date | None = None) -> list[Day]:
    """Every day from ``since`` to ``until`` (default today), days without logins as zeros."""
    until = until or utcnow().date()
    if since > until:
        raise InvalidInput("The first day is after the last.", "since")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput("A report covers at most 366 days.", "since")
    if len(partner_id or "") > 32 or db.session.get(Partner, partner_id) is None:
        raise NotFound("No partner with this id.", "partner_id")
    rows = db.session.scalars(
        select(LoginDay).where(
            LoginDay.partner_id == partner_id, LoginDay.day >= since, LoginDay.day <= until
        )
    )
    found = {row.day: row for row in rows}
    days = []
    for offset in range((until - since).days + 1):
        day = since + timedelta(days=offset)
        row = found.get(day)
        days.append(
            Day(day, row.logins, row.members, row.new_consents, row.withdrawals)
            if row is not None
            else Day(day)
        )
    return days


def as_csv(days: list[Day]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for day in days:
        writer.writerow(day.as_dict())
    return out.getvalue()
