"""A small registry of benchmarks: a function per measurement, registered by name.

A benchmark takes the shared ``Context`` (an app on a populated SQLite file)
and returns one or more ``Result``. Any module in the ``bench`` package is
imported by ``python -m bench``, so a new file with ``@benchmark`` functions is
all it takes to add one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask


@dataclass
class Result:
    name: str
    #: Milliseconds per operation, one sample per operation.
    samples_ms: list[float] = field(default_factory=list)
    #: Operations (rows) per second over the whole run, when that is the figure of interest.
    rows_per_s: float | None = None
    note: str = ""

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None

    @property
    def p95_ms(self) -> float | None:
        if not self.samples_ms:
            return None
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "n": len(self.samples_ms),
            "median_ms": self.median_ms,
            "p95_ms": self.p95_ms,
            "rows_per_s": self.rows_per_s,
            "note": self.note,
        }


@dataclass
class Context:
    app: Flask
    #: Emails and current card numbers of the populated members, for lookups.
    emails: list[str]
    card_numbers: list[str]
    #: Seconds any one benchmark may spend measuring.
    budget_s: float = 8.0
    #: ``time.perf_counter()`` value after which no benchmark measures any more.
    deadline: float = float("inf")

    def measure(self, name: str, operation: Callable[[], object], runs: int, note: str = ""):
        """Time ``operation`` up to ``runs`` times, stopping early when a budget is spent."""
        samples = []
        started = time.perf_counter()
        stop = min(started + self.budget_s, self.deadline)
        for _ in range(runs):
            begin = time.perf_counter()
            operation()
            samples.append((time.perf_counter() - begin) * 1000)
            if time.perf_counter() > stop:
                break
        elapsed = time.perf_counter() - started
        return Result(name, samples, rows_per_s=len(samples) / elapsed, note=note)


Benchmark = Callable[[Context], list[Result]]
BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    def register(function: Benchmark) -> Benchmark:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHMARKS[name] = function
        return function

    return register
