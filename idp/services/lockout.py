"""Account lockout: failed passwords and codes counted per account, locks that grow.

Failures are counted under a *key*: ``member:<id>`` for an existing account, or
a keyed hash of the normalised login name when no account has that name, so
that unknown names lock out exactly like real ones and a lockout never tells
whether an account exists. Wrong passwords and wrong second-factor codes count
together: knowing the password must not buy fresh code attempts.

After ``lockout_threshold`` failures the key is locked for
``lockout_base_seconds``, doubling with every further lockout (capped at a
day). A completed login clears the account's record.

This module adds to the database session; its callers commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from idp.extensions import db, keyring
from idp.models import Lockout
from idp.models.types import utcnow

#: Failures further apart than this start counting again from one.
FAILURE_WINDOW = timedelta(hours=24)
#: No single lockout lasts longer than this.
MAX_LOCK = timedelta(hours=24)


def member_key(member_id: str) -> str:
    return f"member:{member_id}"


def login_name_key(normalised_login: str) -> str:
    """The key of a login name no account has; the name itself is never stored."""
    return "login:" + keyring.blind_index("login:" + normalised_login)


def _settings():
    return current_app.config["IDP"]


def locked_until(key: str) -> datetime | None:
    """When the lock on ``key`` ends, or None when it is not locked now."""
    until = db.session.scalar(select(Lockout.locked_until).where(Lockout.key == key))
    if until is not None and until > utcnow():
        return until
    return None


def lock_period(previous_lockouts: int) -> timedelta:
    base = timedelta(seconds=_settings().lockout_base_seconds)
    # 2**n grows past any sane bound quickly; stop doubling once the cap is reached.
    period = base * (2 ** min(previous_lockouts, 20))
    return min(period, MAX_LOCK)


def record_failure(key: str) -> datetime | None:
    """Count one failure against ``key``; returns the end of the lock when this one locks it."""
    now = utcnow()
    _ensure_row(key, now)
    db.session.execute(
        update(Lockout)
        .where(Lockout.key == key, Lockout.updated_at < now - FAILURE_WINDOW)
        .values(failures=0)
    )
    # One statement increments, so concurrent failures are all counted.
    failures, lockouts = db.session.execute(
        update(Lockout)
        .where(Lockout.key == key)
        .values(failures=Lockout.failures + 1, updated_at=now)
        .returning(Lockout.failures, Lockout.lockouts)
    ).one()
    if failures < _settings().lockout_threshold:
        return None
    until = now + lock_period(lockouts)
    db.session.execute(
        update(Lockout)
        .where(Lockout.key == key)
        .values(failures=0, lockouts=Lockout.lockouts + 1, locked_until=until, updated_at=now)
    )
    return until


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
