"""Sparklines in block characters, scaled from zero: a steady 100 jobs/s draws a flat bar at the
top, not the noise of 99 against 101 (Textual's Sparkline scales from the series' minimum, which
makes any steady rate look like a storm). The height of a bar is its meaning, so a sparkline reads
the same with NO_COLOR; an empty slot (zero, or not sampled) is a blank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
LEVELS = len(BARS)


def fold(values: Sequence[float | None], width: int) -> list[float | None]:
    """The values squeezed into `width` cells, each the largest of the slots it covers (a
    series no longer than `width` keeps one cell a slot)."""
    if width <= 0:
        return []
    if len(values) <= width:
        return list(values)
    cells: list[float | None] = [None] * width
    for i, value in enumerate(values):
        if value is None:
            continue
        cell = i * width // len(values)
        held = cells[cell]
        cells[cell] = value if held is None else max(held, value)
    return cells


def spark_rows(
    values: Sequence[float | None], width: int, height: int = 1, top: float | None = None
) -> list[str]:
    """`height` lines of at most `width` block characters, top line first. Bars are scaled so
    that `top` (the series' largest value by default) fills the height; any value above zero
    shows at least the lowest bar."""
    cells = fold(values, width)
    height = max(1, height)
    known = [v for v in cells if v is not None and math.isfinite(v)]
    peak = top if top is not None else max(known, default=0.0)
    steps = LEVELS * height
    levels = []
    for value in cells:
        if value is None or not math.isfinite(value) or value <= 0 or peak <= 0:
            levels.append(0)
        else:
            levels.append(max(1, min(steps, math.ceil(value / peak * steps))))
    rows = []
    for line in range(height):
        floor = (height - 1 - line) * LEVELS
        row = []
        for level in levels:
            part = level - floor
            row.append(" " if part <= 0 else "█" if part >= LEVELS else BARS[part - 1])
        rows.append("".join(row))
    return rows


def rate(value: float) -> str:
    """A rate in at most six characters: 0.0/s … 999/s, 1.2k/s."""
    if value < 100:
        return f"{value:.1f}/s"
    if value < 1000:
        return f"{value:.0f}/s"
    return f"{value / 1000:.1f}k/s"


def amount(value: float) -> str:
    """A count in at most five characters: 999, 12.3k, 1.2M."""
    if value < 1000:
        return f"{value:.0f}"
    if value < 1_000_000:
        return f"{value / 1000:.1f}k" if value < 100_000 else f"{value / 1000:.0f}k"
    return f"{value / 1_000_000:.1f}M"
