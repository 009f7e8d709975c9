"""Rate limits shared through Redis, with hits leased in batches (idp.web.rate_limit_storage).

Two application instances stand for two worker processes: each has a storage
of its own, and only Redis joins them.
"""

from __future__ import annotations

import secrets
import uuid

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from idp.extensions import limiter
from idp.web.rate_limit_storage import (
    FREE_SHARE,
    MAX_BATCH,
    Lease,
    LeasedRedisStorage,
    storage_uri,
)
from tests.conftest import make_test_app

DISCOVERY = "/.well-known/openid-configuration"
#: The smallest per-minute limit that is leased (10 hits a second).
LEASED_PER_MINUTE = 600


@pytest.fixture
def shared_redis(redis_url):
    if not redis_url:
        pytest.skip(
            "Redis is tested with PostgreSQL: set IDP_TEST_DATABASE_URL and IDP_TEST_REDIS_URL"
        )
    return redis_url


def _address() -> str:
    return f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


# -- the lease arithmetic ------------------------------------------------------------


def test_a_lease_starts_at_one_hit_and_doubles_while_spent_in_time():
    lease = Lease()
    assert lease.wanted(now=100.0, lifetime=1.0) == 1
    lease.record(100.0, granted=1, counted=1, oldest=100.0, expiry=60)
    assert lease.wanted(now=100.1, lifetime=1.0) == 2
    lease.record(100.1, granted=2, counted=3, oldest=100.0, expiry=60)
    assert lease.spend(100.2, lifetime=1.0) and not lease.spend(100.2, lifetime=1.0)
    assert lease.wanted(now=100.3, lifetime=1.0) == 4


def test_batches_never_grow_past_the_largest():
    lease = Lease()
    lease.record(100.0, granted=MAX_BATCH, counted=MAX_BATCH, oldest=100.0, expiry=60)
    while lease.spend(100.0, lifetime=1.0):
        pass
    assert lease.wanted(now=100.5, lifetime=1.0) == MAX_BATCH


def test_a_lease_that_ran_out_of_time_sizes_the_next_by_what_was_used():
    lease = Lease()
    lease.record(100.0, granted=8, counted=8, oldest=100.0, expiry=60)  # one spent by the caller
    assert lease.spend(100.5, lifetime=1.0) and lease.spend(100.6, lifetime=1.0)
    assert not lease.spend(101.5, lifetime=1.0)  # too old: the rest is given up
    assert lease.wanted(now=101.5, lifetime=1.0) == 3


def test_the_window_counts_every_hit_but_the_unspent_ones():
    lease = Lease()
    lease.record(100.0, granted=4, counted=10, oldest=90.0, expiry=60)
    assert lease.window() == (90.0, 7)
    lease.spend(100.1, lifetime=1.0)
    assert lease.window() == (90.0, 8)


def test_a_full_window_is_remembered_until_its_oldest_hit_leaves():
    lease = Lease()
    lease.record(100.0, granted=0, counted=5, oldest=70.0, expiry=60)
    assert lease.full_until == 130.0
    assert lease.window() == (70.0, 5)
    assert not lease.spend(100.1, lifetime=1.0)


def test_redis_urls_name_the_leased_storage_where_it_serves_them():
    assert storage_uri("") == "memory://"
    assert storage_uri("redis://cache:6379/0") == "leased+redis://cache:6379/0"
    assert storage_uri("rediss://cache:6380/1") == "leased+rediss://cache:6380/1"
    assert storage_uri("redis+sentinel://s:26379/m") == "redis+sentinel://s:26379/m"


# -- the script, on Redis ----------------------------------------------------------


def _storages(redis_url: str, count: int) -> list[LeasedRedisStorage]:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    return [LeasedRedisStorage(storage_uri(redis_url), key_prefix=prefix) for _ in range(count)]


def test_grants_shrink_as_the_window_fills_and_never_pass_the_limit(shared_redis):
    [storage] = _storages(shared_redis, 1)
    key, limit = "grants", 2 * MAX_BATCH * FREE_SHARE
    grants = []
    while True:
        granted, counted, _oldest = storage.lua_lease(
            [storage.prefixed_key(key)], [repr(1000.0), limit, 60, MAX_BATCH, FREE_SHARE]
        )
        if granted == 0:
            break
        grants.append(granted)
    storage.reset()
    assert sum(grants) == limit and counted == limit
    assert grants[0] == MAX_BATCH  # the window was empty: the largest batch
    assert grants == sorted(grants, reverse=True)  # smaller as it fills
    assert grants[-FREE_SHARE:] == [1] * FREE_SHARE  # one hit at a time near the limit


def test_hits_spread_over_two_storages_are_counted_once(shared_redis):
    first, second = _storages(shared_redis, 2)
    item = parse(f"{LEASED_PER_MINUTE}/minute")
    strategies = [MovingWindowRateLimiter(first), MovingWindowRateLimiter(second)]
    passed = [0, 0]
    refused = [False, False]
    while not all(refused):
        for i, strategy in enumerate(strategies):
            if strategy.hit(item, "198.18.0.1"):
                passed[i] += 1
            else:
                refused[i] = True
    for storage in (first, second):
        storage.reset()
    assert passed[0] > 0 and passed[1] > 0
    assert sum(passed) <= LEASED_PER_MINUTE


# -- through the front door ----------------------------------------------------------


@pytest.fixture
def two_workers(shared_redis, database_url, tmp_path, app):  # ``app``: the database, migrated
    def make(limit: str):
        return [
            make_test_app(
                database_url, tmp_path / f"instance{i}", shared_redis, api_rate_limit=limit
            )
            for i in range(2)
        ]

    return make


def test_two_instances_on_one_redis_share_a_leased_limit(two_workers):
    apps = two_workers(f"{LEASED_PER_MINUTE}/minute")
    address = _address()
    clients = [app.test_client() for app in apps]
    for app in apps:
        with app.app_context():
            assert isinstance(limiter.storage, LeasedRedisStorage)
    passed = [0, 0]
    remaining = []
    limited = {}
    for _ in range(LEASED_PER_MINUTE + 2):
        if len(limited) == 2:
            break
        for i, http in enumerate(clients):
            response = http.get(DISCOVERY, environ_base={"REMOTE_ADDR": address})
            if response.status_code == 429:
                limited[i] = response
                continue
            assert response.status_code == 200
            assert "Retry-After" not in response.headers
            passed[i] += 1
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert passed[0] > 0 and passed[1] > 0
    assert sum(passed) <= LEASED_PER_MINUTE  # two separate counts would have let twice through
    assert sum(passed) > LEASED_PER_MINUTE // 2
    assert remaining[0] == LEASED_PER_MINUTE - 1 and remaining[-1] < remaining[0]
    for response in limited.values():
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert int(response.headers["Retry-After"]) > 0
    # Once refused, refused in both, and another address has its own budget.
    assert [
        h.get(DISCOVERY, environ_base={"REMOTE_ADDR": address}).status_code for h in clients
    ] == [429, 429]
    assert clients[1].get(DISCOVERY, environ_base={"REMOTE_ADDR": _address()}).status_code == 200


def test_small_limits_are_counted_exactly_across_instances(two_workers):
    apps = two_workers("3/minute")
    address = _address()
    clients = [app.test_client() for app in apps]
    statuses = [
        clients[i % 2].get(DISCOVERY, environ_base={"REMOTE_ADDR": address}).status_code
        for i in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_limited_endpoints_fail_closed_when_redis_cannot_be_reached(database_url, tmp_path, app):
    # Port 1 on the loopback refuses connections: Redis is down, as for limits' own storage.
    down = make_test_app(database_url, tmp_path / "instance", "redis://127.0.0.1:1/0")
    http = down.test_client()
    assert http.get(DISCOVERY).status_code == 500
    assert http.post("/oauth/token", data={}).status_code == 500
    assert http.get("/healthz").status_code == 200  # exempt from rate limits
