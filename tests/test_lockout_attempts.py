"""Lockout attempts counted before the check: what a right attempt gives back, and when not."""

from __future__ import annotations

from idp.extensions import db
from idp.models import Lockout
from idp.services import lockout


def _row(key: str) -> Lockout:
    db.session.expire_all()
    return db.session.get(Lockout, key)


def _take(key: str) -> lockout.Attempt:
    attempt = lockout.take_attempt(key)
    db.session.commit()
    return attempt


def test_attempts_beyond_the_threshold_are_refused_before_any_check(app_ctx, unique):
    key = lockout.member_key(unique("m"))
    attempts = [_take(key) for _ in range(8)]
    allowed = [a for a in attempts if a.refused_until is None]
    assert len(allowed) == 5  # lockout_threshold
    assert [a.locks_until is not None for a in allowed] == [False] * 4 + [True]
    assert all(a.refused_until == allowed[-1].locks_until for a in attempts[5:])
    row = _row(key)
    assert (row.failures, row.lockouts) == (0, 1)


def test_a_right_attempt_gives_its_count_back(app_ctx, unique):
    key = lockout.member_key(unique("m"))
    _take(key)
    right = _take(key)
    lockout.give_back(right)
    db.session.commit()
    assert _row(key).failures == 1


def test_the_right_last_attempt_lifts_the_lock_it_set(app_ctx, unique):
    key = lockout.member_key(unique("m"))
    for _ in range(4):
        _take(key)
    last = _take(key)
    assert last.locks_until is not None
    lockout.give_back(last)
    db.session.commit()
    row = _row(key)
    assert (row.failures, row.lockouts, row.locked_until) == (4, 0, None)
    # The next wrong attempt locks it.
    assert _take(key).locks_until is not None


def test_a_right_attempt_counted_before_another_locked_leaves_the_lock(app_ctx, unique):
    key = lockout.member_key(unique("m"))
    early = _take(key)  # in flight while four wrong attempts arrive and lock the key
    for _ in range(4):
        _take(key)
    lockout.give_back(early)
    db.session.commit()
    row = _row(key)
    assert row.locked_until is not None and row.lockouts == 1
    assert _take(key).refused_until == row.locked_until
