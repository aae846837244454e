"""The Kinds view's list: per kind, its jobs by status, done and failed per minute over the last
1, 5 and 15 minutes, the failure rate and run-time percentiles over the window, and how long the
oldest queued job has waited; sorted by any column (`s` picks the next one, `r` turns the order).

The rows come from `core.system.kind_stats`; the sorted column's header carries ▲ or ▼, so the
order reads without colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical

from jobdeck.core import Status
from jobdeck.core.system import RATE_WINDOWS, KindStats
from jobdeck.tui.messages import KindChosen
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.job_table import Cell, Column, JobTable, Row

Value = Callable[[KindStats], float | str | None]


def run_time(seconds: float | None) -> str:
    """A run time in at most five characters: 420µs, 8.5ms, 120ms, 2.5s, 3m05."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f}µs"
    if seconds < 0.01:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return cells.span(seconds)


def per_minute(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def count(status: Status) -> Value:
    return lambda s: s.counts.get(status, 0)


def done_rate(minutes: int) -> Value:
    return lambda s: s.done_per_min.get(minutes, 0.0)


def failed_rate(minutes: int) -> Value:
    return lambda s: s.failed_per_min.get(minutes, 0.0)


# (column, its value for sorting, the first sort of it is descending)
SORTS: list[tuple[Column, Value, bool]] = [
    (Column("kind", "kind", 14, 0, flex=True, cap=28), lambda s: s.kind, False),
    (Column("queued", "queued", 7, 1), count(Status.QUEUED), True),
    (Column("running", "running", 7, 1), count(Status.RUNNING), True),
    (Column("done", "done", 8, 4), count(Status.DONE), True),
    (Column("failed", "failed", 7, 3), count(Status.FAILED), True),
    *(
        (Column(f"done_{m}", f"done/m {m}", 9 if m > 9 else 8, p), done_rate(m), True)
        for m, p in zip(RATE_WINDOWS, (2, 5, 6), strict=True)
    ),
    *(
        (Column(f"failed_{m}", f"fail/m {m}", 9 if m > 9 else 8, p), failed_rate(m), True)
        for m, p in zip(RATE_WINDOWS, (3, 5, 6), strict=True)
    ),
    (Column("rate", "fail%", 6, 2), lambda s: s.failure_rate, True),
    (Column("p50", "p50", 6, 4), lambda s: s.p50, True),
    (Column("p95", "p95", 6, 1), lambda s: s.p95, True),
    (Column("p99", "p99", 6, 4), lambda s: s.p99, True),
    (Column("oldest", "oldest", 6, 1), lambda s: s.oldest_queued_wait, True),
]
COLUMNS = [column for column, _, _ in SORTS]


def kind_cells(stats: KindStats) -> tuple[Cell, ...]:
    counts = stats.counts
    failed = counts.get(Status.FAILED, 0)
    return (
        Cell(cells.printable(stats.kind)),
        Cell(f"{counts.get(Status.QUEUED, 0):,}", right=True),
        Cell(f"{counts.get(Status.RUNNING, 0):,}", right=True),
        Cell(f"{counts.get(Status.DONE, 0):,}", right=True),
        Cell(f"{failed:,}", "red" if failed else "", right=True),
        *(Cell(per_minute(stats.done_per_min.get(m, 0.0)), right=True) for m in RATE_WINDOWS),
        *(Cell(per_minute(stats.failed_per_min.get(m, 0.0)), right=True) for m in RATE_WINDOWS),
        Cell(percent(stats.failure_rate), right=True),
        Cell(run_time(stats.p50), right=True),
        Cell(run_time(stats.p95), right=True),
        Cell(run_time(stats.p99), right=True),
        Cell(
            "-" if stats.oldest_queued_wait is None else cells.span(stats.oldest_queued_wait),
            right=True,
        ),
    )


def sort_kinds(stats: list[KindStats], key: str, descending: bool) -> list[KindStats]:
    """Sorted by the column with this key; kinds without a value (no run time yet) last either
    way, ties by name."""
    value = next(value for column, value, _ in SORTS if column.key == key)
    known = [s for s in stats if value(s) is not None]
    unknown = sorted((s for s in stats if value(s) is None), key=lambda s: s.kind)
    known.sort(key=lambda s: s.kind)
    known.sort(key=lambda s: value(s), reverse=descending)  # type: ignore[arg-type, return-value]
    return known + unknown


def marked(column: int, descending: bool) -> list[Column]:
    """The columns with ▼ or ▲ after the sorted one's label (one cell wider for it)."""
    out = list(COLUMNS)
    sorted_ = out[column]
    label = f"{sorted_.label}{'▼' if descending else '▲'}"
    out[column] = replace(sorted_, label=label, width=max(sorted_.width, len(label)))
    return out


class KindList(Vertical):
    """A titled pane of kinds. `show(stats)` takes what `read_kinds` read; `sort_next()` and
    `reverse()` change the order."""

    def __init__(self, *, window: str, id: str | None = None) -> None:
        super().__init__(id=id, classes="system-pane")
        self.stats: list[KindStats] = []
        self.column = 0
        self.descending = False
        self.window = window
        self.table = JobTable(marked(0, False), id="kind-table")
        self.border_subtitle = "enter: run times · s: sort · r: reverse"

    def compose(self) -> ComposeResult:
        yield self.table

    @property
    def selected(self) -> str | None:
        return self.table.selected_key

    @property
    def sorted_by(self) -> str:
        return COLUMNS[self.column].key

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Sort by the column with this key; `descending` None takes the column's own first
        order (largest first for numbers, a to z for names)."""
        index = next(i for i, column in enumerate(COLUMNS) if column.key == key)
        self.column = index
        self.descending = SORTS[index][2] if descending is None else descending
        self.table.set_columns(marked(self.column, self.descending))
        self.show(self.stats)

    def sort_next(self) -> None:
        self.sort_by(COLUMNS[(self.column + 1) % len(COLUMNS)].key)

    def reverse(self) -> None:
        self.sort_by(self.sorted_by, not self.descending)

    def show(self, stats: list[KindStats]) -> None:
        self.stats = stats
        label = COLUMNS[self.column].label
        title = f"Kinds {len(stats)} · last {self.window} · by {label}"
        if self.border_title != title:  # a new title repaints the whole pane
            self.border_title = title
        ordered = sort_kinds(stats, self.sorted_by, self.descending)
        rows: list[Row] = [(s.kind, kind_cells(s)) for s in ordered]
        self.table.show(rows)

    @on(JobTable.Highlighted)
    def _highlighted(self, event: JobTable.Highlighted) -> None:
        event.stop()

    @on(JobTable.Selected)
    def _selected(self, event: JobTable.Selected) -> None:
        event.stop()
        self.post_message(KindChosen(event.key))
