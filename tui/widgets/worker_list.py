"""The Workers view's list: one row per registered worker with its host, pid, uptime, last
heartbeat, the jobs it runs now, and what it finished and failed in its last 5 minutes; a worker
silent for two lease lengths reads `gone`.

The rows come from `Store.workers`; every text a worker wrote (its name, host, version, kinds)
is shown escaped, since a newer jobdeck or a strange host may have written it. The table is the
monitor's job table keyed by worker name, so a tick repaints only the cells that moved.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical

from jobdeck.core.system import WorkerState
from jobdeck.tui.feed import WORKER_SEEN_WITHIN
from jobdeck.tui.messages import WorkerChosen
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.job_table import Cell, Column, JobTable, Row

# A narrow terminal drops the version, the kinds and the pid first: who, whether alive, and what
# it does now stay.
COLUMNS = [
    Column("name", "worker", 14, 0, flex=True, cap=18),
    Column("state", "state", 5, 0),
    Column("host", "host", 10, 3, flex=True, cap=24),
    Column("pid", "pid", 7, 5),
    Column("up", "up", 5, 4),
    Column("seen", "seen", 5, 1),
    Column("running", "running", 7, 0),
    Column("done", "done 5m", 7, 2),
    Column("failed", "failed 5m", 9, 2),
    Column("kinds", "kinds", 10, 6, flex=True),
    Column("version", "version", 10, 7),
]
GONE_STYLE = "red"
ALIVE_STYLE = "green"


def gone(worker: WorkerState, now: float) -> bool:
    """Silent for two of its lease lengths; a row that does not say its lease (an older
    jobdeck's) is judged by the window the status line counts live workers in."""
    if worker.lease <= 0:
        return now - worker.last_seen > WORKER_SEEN_WITHIN
    return worker.gone(now)


def ago(now: float, then: float) -> str:
    return "-" if then <= 0 else cells.span(now - then)


def worker_cells(worker: WorkerState, now: float) -> tuple[Cell, ...]:
    gone_ = gone(worker, now)
    kinds = ", ".join(cells.printable(kind) for kind in worker.kinds) or "any"
    return (
        Cell(cells.printable(worker.name)),
        Cell("gone", GONE_STYLE) if gone_ else Cell("alive", ALIVE_STYLE),
        Cell(cells.printable(worker.host) or "-"),
        Cell(str(worker.pid) if worker.pid > 0 else "-", right=True),
        Cell(ago(now, worker.started_at), right=True),
        Cell(ago(now, worker.last_seen), right=True),
        Cell(f"{worker.running}/{worker.concurrency}", right=True),
        Cell(f"{worker.done_5m:,}", right=True),
        Cell(f"{worker.failed_5m:,}", "red" if worker.failed_5m else "", right=True),
        Cell(kinds),
        Cell(cells.printable(worker.version) or "-"),
    )


def ordered(workers: list[WorkerState], now: float) -> list[WorkerState]:
    """Alive workers first, then gone ones, each by name."""
    return sorted(workers, key=lambda w: (gone(w, now), w.name))


class WorkerList(Vertical):
    """A titled pane of workers. `show(workers, now)` takes what `Store.workers` read."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="system-pane")
        self.shown: list[WorkerState] = []
        self.table = JobTable(COLUMNS, id="worker-table")
        self.border_title = "Workers"
        self.border_subtitle = "enter: its running jobs"

    def compose(self) -> ComposeResult:
        yield self.table

    @property
    def selected(self) -> WorkerState | None:
        name = self.table.selected_key
        return next((w for w in self.shown if w.name == name), None)

    def show(self, workers: list[WorkerState], now: float) -> None:
        self.shown = ordered(workers, now)
        silent = sum(gone(w, now) for w in workers)
        alive = len(workers) - silent
        title = f"Workers {alive}" + (f" · {silent} gone" if silent else "")
        if self.border_title != title:  # a new title repaints the whole pane
            self.border_title = title
        rows: list[Row] = [(w.name, worker_cells(w, now)) for w in self.shown]
        self.table.show(rows)

    @on(JobTable.Highlighted)
    def _highlighted(self, event: JobTable.Highlighted) -> None:
        event.stop()

    @on(JobTable.Selected)
    def _selected(self, event: JobTable.Selected) -> None:
        event.stop()
        self.post_message(WorkerChosen(event.key))
