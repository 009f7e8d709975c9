"""Rate limits shared through Redis without a round trip per request: leased hits.

limits' Redis storage for the moving window makes two round trips per request
(the hit, then the window for the X-RateLimit-* headers). This storage keeps
the same window in Redis (a list of hit times, newest first, as limits keeps
it) but takes hits from it in batches: one Lua script counts the window and
pushes up to ``wanted`` hits at once, and the process spends them one request
at a time without asking again. The headers are answered from what the last
lease saw. Every process leases from the same list, so an address is counted
once across all of them, and a full window refuses in each of them when its
lease runs out.

Batch sizes:

- A lease starts at one hit; a lease spent within ``LEASE_SECONDS`` doubles
  the next one, up to ``MAX_BATCH``; a lease that ran out of time leaves the
  next one as large as what was used of it. A slow client so never holds more
  than it uses.
- Redis grants at most the window's free hits divided by ``FREE_SHARE``, so
  the batches shrink as the window fills and are one hit near the limit.
- Limits of fewer than ``LEASE_FROM_RATE`` hits a second (the login limit,
  every small limit) are counted one hit at a time, exactly as limits does:
  they guard passwords and codes, and nobody under them sends enough requests
  for the round trip to matter.

The bound: every hit spent was pushed into the shared window first, and Redis
never lets the window hold more than the limit. A hit spent later than it was
leased is timed in Redis by its lease, so it may leave the window early; only
the one lease a process holds for a key when a window begins can be spent
inside it that way. So at most ``workers × batch`` hits over the limit pass in
any window, where batch ≤ min(MAX_BATCH, limit / FREE_SHARE) (1200/minute:
37 hits, so 2 workers let at most 74 over), and as many leased hits left
unspent in other processes may refuse an address early. Near
the limit the batch is one hit, and limits below ``LEASE_FROM_RATE`` are exact.

A full window is remembered until its oldest hit leaves it: refused requests
cost no round trip either. When Redis cannot be reached, a request that needs
a lease fails with the client's error, as with limits' own storage (the
provider answers 500: rate limits fail closed); hits already leased are spent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from limits.storage import RedisStorage

#: Prefix of the storage URI that names this storage to flask-limiter.
SCHEME_PREFIX = "leased+"
#: Redis URL schemes this storage serves; others (sentinel, cluster) keep limits' own storage.
REDIS_SCHEMES = ("redis", "rediss", "unix")
#: The largest batch of hits one lease takes.
MAX_BATCH = 128
#: A lease takes at most this share (1/n) of the hits the window has left.
FREE_SHARE = 32
#: Leased hits not spent within this many seconds are given up (they stay counted).
LEASE_SECONDS = 1.0
#: Limits allowing fewer hits a second than this are counted one hit at a time.
LEASE_FROM_RATE = 10
#: Leases unused this long (and not remembering a full window) are forgotten.
FORGET_AFTER_SECONDS = 60.0

#: Counts the moving window, pushes up to the wanted hits (never more than the free
#: share, never over the limit) and answers {granted, hits in the window, oldest hit}.
LEASE_SCRIPT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local wanted = tonumber(ARGV[4])
local share = tonumber(ARGV[5])
local low, high, count = 0, math.min(redis.call('llen', KEYS[1]), limit) - 1, 0
while low <= high do
  local mid = math.floor((low + high) / 2)
  local hit = tonumber(redis.call('lindex', KEYS[1], mid))
  if hit and hit >= now - expiry then
    count = mid + 1
    low = mid + 1
  else
    high = mid - 1
  end
end
local free = limit - count
local granted = math.min(wanted, math.max(1, math.floor(free / share)), free)
if granted > 0 then
  local hits = {}
  for i = 1, granted do hits[i] = ARGV[1] end
  redis.call('lpush', KEYS[1], unpack(hits))
  redis.call('ltrim', KEYS[1], 0, limit - 1)
  redis.call('expire', KEYS[1], expiry)
  count = count + granted
end
local oldest = ARGV[1]
if count > 0 then oldest = redis.call('lindex', KEYS[1], count - 1) end
return {granted, count, oldest}
"""


def storage_uri(redis_url: str) -> str:
    """The flask-limiter storage URI for ``redis_url``: leased where this storage
    serves the scheme, limits' own storage otherwise, memory without Redis."""
    if not redis_url:
        return "memory://"
    if redis_url.split("://", 1)[0] in REDIS_SCHEMES:
        return SCHEME_PREFIX + redis_url
    return redis_url


@dataclass
class Lease:
    """One process's part of one shared window, and what Redis told it last."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Leased hits not spent yet.
    left: int = 0
    #: Hits of the last lease.
    size: int = 0
    #: When the last lease was taken (``time.time()``, as the hits are timed in Redis).
    taken_at: float = 0.0
    #: Hits in the shared window just after the last lease, its own included.
    counted: int = 0
    #: The oldest hit in the shared window then.
    window_start: float = 0.0
    #: The window was full: refused without asking until this time.
    full_until: float = 0.0

    def spend(self, now: float, lifetime: float) -> bool:
        """Take one leased hit if one is left and still fresh."""
        if self.left > 0 and now - self.taken_at < lifetime:
            self.left -= 1
            return True
        return False

    def wanted(self, now: float, lifetime: float) -> int:
        """The next batch: doubled after a lease spent in time, else what was used."""
        if self.size == 0:
            return 1
        if self.left == 0 and now - self.taken_at < lifetime:
            return min(2 * self.size, MAX_BATCH)
        return max(1, self.size - self.left)

    def record(self, now: float, granted: int, counted: int, oldest: float, expiry: int):
        """What a lease brought: the hits granted (one of them spent by the caller)."""
        self.taken_at, self.counted, self.window_start = now, counted, oldest
        if granted == 0:
            self.full_until = oldest + expiry
            self.left = 0
            return
        self.size, self.left = granted, granted - 1

    def window(self) -> tuple[float, int]:
        """(start, hits) of the shared window as this process knows it."""
        return self.window_start, self.counted - self.left


class LeasedRedisStorage(RedisStorage):
    """limits' Redis storage whose moving-window hits are leased in batches.

    One instance per application (each worker process builds its own); threads
    of a process share its leases, one lock per key.
    """

    STORAGE_SCHEME = [SCHEME_PREFIX + scheme for scheme in REDIS_SCHEMES]

    def __init__(self, uri: str, **options):
        super().__init__(uri.removeprefix(SCHEME_PREFIX), **options)
        self._leases: dict[str, Lease] = {}
        self._leases_lock = threading.Lock()
        self._forget_at = time.monotonic() + FORGET_AFTER_SECONDS

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_lease = self.get_connection().register_script(LEASE_SCRIPT)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount != 1:
            self._leases.pop(key, None)
            return super().acquire_entry(key, limit, expiry, amount)
        self._forget_idle()
        lease = self._lease(key)
        lifetime = min(LEASE_SECONDS, expiry)
        with lease.lock:
            now = time.time()
            if now < lease.full_until:
                return False
            if lease.spend(now, lifetime):
                return True
            wanted = lease.wanted(now, lifetime) if limit >= LEASE_FROM_RATE * expiry else 1
            granted, counted, oldest = self.lua_lease(
                [self.prefixed_key(key)], [repr(now), limit, expiry, wanted, FREE_SHARE]
            )
            lease.record(now, int(granted), int(counted), float(oldest), expiry)
            return granted > 0

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The window as the last lease saw it; Redis only for a key not leased lately."""
        lease = self._leases.get(key)
        now = time.time()
        if lease is not None and (
            now - lease.taken_at < min(LEASE_SECONDS, expiry) or now < lease.full_until
        ):
            return lease.window()
        return super().get_moving_window(key, limit, expiry)

    def clear(self, key: str) -> None:
        self._leases.pop(key, None)
        super().clear(key)

    def reset(self) -> int | None:
        with self._leases_lock:
            self._leases.clear()
        return super().reset()

    def _lease(self, key: str) -> Lease:
        lease = self._leases.get(key)
        if lease is None:
            with self._leases_lock:
                lease = self._leases.setdefault(key, Lease())
        return lease

    def _forget_idle(self) -> None:
        """Drop leases of keys not seen for a while, so memory follows the live keys."""
        if time.monotonic() < self._forget_at:
            return
        with self._leases_lock:
            self._forget_at = time.monotonic() + FORGET_AFTER_SECONDS
            now = time.time()
            for key, lease in list(self._leases.items()):
                if now - lease.taken_at > FORGET_AFTER_SECONDS and now >= lease.full_until:
                    del self._leases[key]
