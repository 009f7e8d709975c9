"""Account lockout: failed passwords and codes counted per account, locks that grow.

Failures are counted under a *key*: ``member:<id>`` for an existing account, or
a keyed hash of the normalised login name when no account has that name, so
that unknown names lock out exactly like real ones and a lockout never tells
whether an account exists. Wrong passwords and wrong second-factor codes count
together: knowing the password must not buy fresh code attempts.

After ``lockout_threshold`` failures the key is locked for
``lockout_base_seconds``, doubling with every further lockout (capped at a
day). A completed login clears the account's record.

Every attempt is counted *before* its password or code is checked
(``take_attempt``, under a row lock), and the attempt that reaches the
threshold locks the key there and then. So however many attempts arrive at
once, over however many processes, at most ``lockout_threshold`` of them are
checked before the lock; the others are refused without being checked, a right
password among them too. An attempt that turns out right gives its count back
(``give_back``), and lifts the lock only when its own count had set it: the
member who gets it right at the last allowed attempt is let in, as if the
count had been taken afterwards.

This module adds to the database session; its callers commit, and commit the
taken attempt before the slow check so that the row lock is held only briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from idp import defaults
from idp.extensions import db, keyring
from idp.models import Lockout
from idp.models.types import utcnow


def member_key(member_id: str) -> str:
    return f"member:{member_id}"


def login_name_key(normalised_login: str) -> str:
    """The key of a login name no account has; the name itself is never stored."""
    return "login:" + keyring.blind_index("login:" + normalised_login)


def _settings():
    return current_app.config["IDP"]


def lock_period(previous_lockouts: int) -> timedelta:
    base = timedelta(seconds=_settings().lockout_base_seconds)
    # 2**n grows past any sane bound quickly; stop doubling once the cap is reached.
    period = base * (2 ** min(previous_lockouts, 20))
    return min(period, timedelta(seconds=defaults.LOCKOUT_MAX_SECONDS))


@dataclass(frozen=True)
class Attempt:
    """One password or code attempt, counted against ``key`` before it is checked."""

    key: str
    #: The key's number of lockouts when the attempt was counted (which lock period it is in).
    lockouts: int
    #: Set when the key was locked already: the attempt is refused unchecked, until then.
    refused_until: datetime | None = None
    #: Set when this attempt was the last one allowed and so locked the key, until then.
    locks_until: datetime | None = None


def take_attempt(key: str) -> Attempt:
    """Count one attempt against ``key``, or refuse it because ``key`` is locked.

    The row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction
    already excludes every other writer) from the read to the commit, so
    concurrent attempts are counted one after the other.
    """
    now = utcnow()
    _ensure_row(key, now)
    row = db.session.execute(
        select(Lockout.failures, Lockout.lockouts, Lockout.locked_until, Lockout.updated_at)
        .where(Lockout.key == key)
        .with_for_update()
    ).one()
    if row.locked_until is not None and row.locked_until > now:
        return Attempt(key, row.lockouts, refused_until=row.locked_until)
    window = timedelta(seconds=defaults.LOCKOUT_FAILURE_WINDOW_SECONDS)
    failures = (0 if row.updated_at < now - window else row.failures) + 1
    values = {"failures": failures, "updated_at": now}
    until = None
    if failures >= _settings().lockout_threshold:
        until = now + lock_period(row.lockouts)
        values.update(failures=0, lockouts=row.lockouts + 1, locked_until=until)
    db.session.execute(update(Lockout).where(Lockout.key == key).values(**values))
    return Attempt(key, row.lockouts, locks_until=until)


def give_back(attempt: Attempt) -> None:
    """The attempt was right: it no longer counts as a failure.

    Only within the lock period it was counted in: once another attempt has
    locked the key, the count started again and the lock stays.
    """
    if attempt.refused_until is not None:
        return
    if attempt.locks_until is not None:
        db.session.execute(
            update(Lockout)
            .where(Lockout.key == attempt.key, Lockout.lockouts == attempt.lockouts + 1)
            .values(
                failures=_settings().lockout_threshold - 1,
                lockouts=attempt.lockouts,
                locked_until=None,
            )
        )
        return
    db.session.execute(
        update(Lockout)
        .where(
            Lockout.key == attempt.key,
            Lockout.lockouts == attempt.lockouts,
            Lockout.failures > 0,
        )
        .values(failures=Lockout.failures - 1)
    )


def clear(key: str) -> None:
    """A completed login: forget the failures and the growth of the lock."""
    db.session.execute(delete(Lockout).where(Lockout.key == key))


def _ensure_row(key: str, now: datetime) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Lockout)
        .values(key=key, failures=0, lockouts=0, locked_until=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
