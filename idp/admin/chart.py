"""A day-by-day chart of logins and distinct members, drawn as SVG on the server.

No script and no inline style (the CSP allows neither): the template draws
what ``Chart`` computes with SVG presentation attributes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.services.analytics import Day

WIDTH = 720
HEIGHT = 240
LEFT = 48
BOTTOM = 28
TOP = 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass
class Chart:
    bars: list[Bar]
    #: "x,y x,y ..." of the distinct members line.
    members_line: str
    #: (y, value) of each horizontal grid line.
    grid: list[tuple[float, int]]
    #: (x, label) of the days named under the axis.
    ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= value:
                return step * top
        top *= 10


def draw(days: list[Day]) -> Chart:
    count = max(len(days), 1)
    top = _nice_top(max([d.logins for d in days] + [1]))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / count
    baseline = HEIGHT - BOTTOM

    def y_of(value: int) -> float:
        return round(baseline - plot_height * value / top, 1)

    bars, points, ticks = [], [], []
    every = max(1, count // 8)
    for i, day in enumerate(days):
        x = LEFT + i * slot
        y = y_of(day.logins)
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 1),
                y=y,
                width=round(slot * 0.7, 1),
                height=round(baseline - y, 1),
                label=day.day.isoformat(),
                value=day.logins,
            )
        )
        points.append(f"{round(x + slot / 2, 1)},{y_of(day.members)}")
        if i % every == 0:
            ticks.append((round(x + slot / 2, 1), day.day.strftime("%m-%d")))
    grid = [(y_of(top * n // 4), top * n // 4) for n in range(5)]
    return Chart(bars=bars, members_line=" ".join(points), grid=grid, ticks=ticks)
