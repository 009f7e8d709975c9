"""Parallel test processes never share a Redis database (conftest.redis_for_this_process)."""

from __future__ import annotations

from tests.conftest import redis_for_this_process


def test_one_process_keeps_the_database_it_was_given(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert redis_for_this_process("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_each_worker_takes_the_database_after_the_given_one_by_its_number(monkeypatch):
    seen = set()
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        seen.add(redis_for_this_process("redis://127.0.0.1:6379/0"))
    assert seen == {f"redis://127.0.0.1:6379/{n}" for n in (1, 2, 3)}


def test_worker_databases_wrap_around_within_redis_default_sixteen(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert redis_for_this_process("redis://127.0.0.1:6379/14") == "redis://127.0.0.1:6379/0"
    assert redis_for_this_process("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379/2"
