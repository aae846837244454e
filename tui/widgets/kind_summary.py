"""The kind detail's numbers: its jobs by status, done and failed per minute over the last 1, 5
and 15 minutes, the failure rate, the run-time percentiles and the oldest queued job's wait."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Status
from jobdeck.core.system import RATE_WINDOWS, KindStats
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.kind_list import per_minute, percent, run_time


def summary_table(stats: KindStats | None, window: str) -> Table | Text:
    if stats is None:
        return Text("No job of this kind is stored, and none ended in the window.", style="dim")
    table = Table(box=None, padding=(0, 2, 0, 0), show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    jobs = Text()
    for i, status in enumerate(Status):
        if i:
            jobs.append("  ")
        jobs.append(status.value, style=cells.STATUS_STYLE[status])
        jobs.append(f" {stats.counts.get(status, 0):,}")
    table.add_row("jobs", jobs)
    minutes = " · ".join(f"{m}m" for m in RATE_WINDOWS)
    done = " · ".join(per_minute(stats.done_per_min.get(m, 0.0)) for m in RATE_WINDOWS)
    failed = " · ".join(per_minute(stats.failed_per_min.get(m, 0.0)) for m in RATE_WINDOWS)
    table.add_row("a minute", f"done {done}   failed {failed}   ({minutes})")
    table.add_row(
        f"last {window}",
        f"failure rate {percent(stats.failure_rate)}   run time p50 {run_time(stats.p50)}  "
        f"p95 {run_time(stats.p95)}  p99 {run_time(stats.p99)}",
    )
    wait = stats.oldest_queued_wait
    table.add_row("oldest queued", "none" if wait is None else f"waiting {cells.span(wait)}")
    return table


class KindSummary(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="section")
        self.border_title = "Numbers"
        self._shown: tuple[KindStats | None, str] | None = None

    def show(self, stats: KindStats | None, window: str) -> None:
        if self._shown == (stats, window):
            return
        # A tick moves the numbers, not the lines: laid out again only when there are more or
        # fewer of them (the kind appears or goes), so a tick repaints this section alone.
        known = self._shown is not None and (self._shown[0] is None) == (stats is None)
        self._shown = (stats, window)
        self.update(summary_table(stats, window), layout=not known)
