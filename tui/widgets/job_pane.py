"""One status pane: its count in the title and the visible page of its jobs, newest first.

The pane keeps the cursor on the same job while rows move, and its table redraws only the cells
that changed, so a live tick neither flickers nor steals the selection.

The Queued pane tells due jobs from scheduled ones (queued with `run_after` ahead): a scheduled
row counts down, `in 4m10`, and sorts after the due ones. It orders the page it was given and
reads nothing more, so a job whose moment comes moves up on the next tick without a read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive

from jobdeck.core import Job, Status
from jobdeck.tui.messages import GroupChosen, JobChosen, JobHighlighted
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.job_table import Cell, Column, JobTable, Row

if TYPE_CHECKING:
    from jobdeck.tui.widgets.failure_groups import FailureGroups

ID = Column("id", "id", cells.SHORT_ID, 0)
KIND = Column("kind", "kind", 10, 3, flex=True, cap=14)
ATTEMPT = Column("attempt", "att", 5, 4)
CODE = Column("code", "reason", 10, 1, flex=True)
CATEGORY = Column("category", "category", 10, 1)
SCHEDULED_STYLE = "cyan"
# Before the kind of a queued job whose kind is paused: a mark, not a colour, so it reads
# without colour too (the header names the paused kinds; `?` explains the mark).
PAUSED_MARK = "‖ "
PAUSED_STYLE = "dim"

PANES: dict[Status, tuple[str, str, bool]] = {
    # status: (title, label of the time column, newest first)
    Status.QUEUED: ("Queued", "wait", False),
    Status.RUNNING: ("Running", "for", False),
    Status.DONE: ("Done", "age", True),
    Status.FAILED: ("Failed", "age", True),
}


def columns_wanted(status: Status, *, countdown: bool = False) -> list[Column]:
    """Every column the pane would show with room enough; the table drops what does not fit.
    The time column comes last: it is the one cell of a row that changes while its job does
    not. With `countdown` (the Queued pane while a scheduled job is on show) the time column
    is wide enough for `in 4m10`."""
    # A narrow Failed pane keeps what failed and why before when.
    time = Column("time", PANES[status][1], 5, 2 if status is Status.FAILED else 0)
    if status is Status.FAILED:
        return [ID, KIND, ATTEMPT, CODE, CATEGORY, time]
    if countdown:
        # The two extra cells come out of the kind's least width, so an 80-column terminal
        # still shows the kind (cut to nine cells) beside the countdown.
        time = replace(time, width=len(cells.countdown(3600)))
        return [ID, replace(KIND, width=KIND.width - 1), ATTEMPT, time]
    return [ID, KIND, ATTEMPT, time]


def job_cells(job: Job, columns: list[Column], paused: bool = False) -> tuple[Cell, ...]:
    """The cells of every column but the time: they change only when the job does (or its
    kind is paused or resumed)."""
    values: list[Cell] = []
    for column in columns[:-1]:
        match column.key:
            case "id":
                values.append(Cell(cells.short_id(job.id)))
            case "kind":
                if paused:
                    values.append(Cell(PAUSED_MARK + job.kind, PAUSED_STYLE))
                else:
                    values.append(Cell(job.kind))
            case "attempt":
                values.append(Cell(f"{job.attempt}/{job.max_attempts}", right=True))
            case "code":
                values.append(Cell(job.reason.code if job.reason else "-"))
            case "category":
                category = job.reason.category if job.reason else None
                values.append(Cell(*cells.category_words(category)) if category else Cell("-"))
    return tuple(values)


def age_cell(job: Job, now: float) -> Cell:
    """How long the job has been in its status; for a queued job, how long it has waited since
    it became due, or the countdown to that moment (the word `in` marks it without colour)."""
    if job.status is not Status.QUEUED:
        return Cell(cells.span(now - job.updated_at), right=True)
    if job.run_after > now:
        return Cell(cells.countdown(job.run_after - now), SCHEDULED_STYLE, right=True)
    return Cell(cells.span(now - job.run_after), right=True)


def due_first(jobs: list[Job], now: float) -> list[Job]:
    """Due jobs in the page's order, then scheduled ones, soonest first."""
    due = [job for job in jobs if job.run_after <= now]
    if len(due) == len(jobs):
        return jobs
    later = sorted((job for job in jobs if job.run_after > now), key=lambda j: (j.run_after, j.id))
    return due + later


class JobPane(Vertical):
    """A titled pane of one status. `show()` takes a page of jobs; `tick()` re-ages them."""

    grouped: reactive[bool] = reactive(False)

    def __init__(self, status: Status) -> None:
        super().__init__(id=f"pane-{status.value}", classes="job-pane")
        self.status = status
        self.title, _, self.newest_first = PANES[status]
        self.count = 0
        self._columns = columns_wanted(status)
        self._countdown = False  # whether the time column is widened for a countdown
        self._jobs: list[Job] = []
        self._paused: frozenset[str] = frozenset()  # kinds marked paused (the Queued pane)
        self._now = 0.0
        # The cells of the jobs on show, by (id, updated_at): a job that did not change keeps
        # its cells from one page to the next, and a tick computes only the ages.
        self._cells: dict[tuple[str, float], tuple[Cell, ...]] = {}
        self.table = JobTable(self._columns, id=f"jobs-{status.value}")
        self.groups: FailureGroups | None = None  # the Failed pane's group view, once shown
        self.border_title = self.title

    def compose(self) -> ComposeResult:
        yield self.table

    @property
    def visible_rows(self) -> int:
        """How many rows fit: the page size to ask for (0 before the first layout)."""
        return self.table.capacity if self.table.size.height else 0

    @property
    def needs_more(self) -> bool:
        """Whether the pane has room for more jobs than it holds and more may exist."""
        return self.visible_rows > len(self._jobs) and self.count > len(self._jobs)

    @property
    def selected_id(self) -> str | None:
        return self.table.selected_key

    @property
    def selected_job(self) -> Job | None:
        job_id = self.selected_id
        return next((job for job in self._jobs if job.id == job_id), None)

    def set_count(self, count: int, filtered: str = "", *, note: str = "") -> None:
        """The count in the title; the subtitle shows the text filter (`/charge`) or, when
        given, a `note` (the worker the panes are filtered by)."""
        self.count = count
        subtitle = note or (f"/{filtered}" if filtered else "")
        if self.grouped:
            subtitle = "by reason · enter: show · r: retry group"
        # Setting a title repaints the whole pane, so only a new one is set.
        title = f"{self.title} {count:,}"
        if self.border_title != title:
            self.border_title = title
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle

    def show(self, jobs: list[Job], now: float) -> None:
        known, columns = self._cells, self._columns
        self._cells = {}
        for job in jobs:
            key = (job.id, job.updated_at)
            self._cells[key] = known.get(key) or job_cells(job, columns, job.kind in self._paused)
        self._jobs = jobs
        self.tick(now)

    def set_paused(self, kinds: tuple[str, ...]) -> None:
        """Mark the rows of paused kinds (the Queued pane); redraw the rows only on a change."""
        if set(kinds) == self._paused:
            return
        self._paused = frozenset(kinds)
        self._cells = {}
        self.show(self._jobs, self._now)

    def tick(self, now: float) -> None:
        """Re-age the rows; the table repaints only the cells whose text changed."""
        self._now = now
        cells = self._cells
        jobs = self._jobs
        if self.status is Status.QUEUED:
            jobs = due_first(jobs, now)
            # Widen the time column only while a countdown is on show: the kind keeps its
            # room the rest of the time.
            countdown = bool(jobs) and jobs[-1].run_after > now
            if countdown != self._countdown:
                self._countdown = countdown
                self.table.set_columns(columns_wanted(self.status, countdown=countdown))
        rows: list[Row] = [
            (job.id, (*cells[job.id, job.updated_at], age_cell(job, now))) for job in jobs
        ]
        self.table.show(rows)

    async def show_groups(self, grouped: bool) -> None:
        """Show the jobs or (the Failed pane only) the failures grouped by reason code."""
        if grouped and self.groups is None:
            # Mounted when first asked for: most monitors never group, so none pays for it.
            from jobdeck.tui.widgets.failure_groups import FailureGroups

            self.groups = FailureGroups(id="groups")
            await self.mount(self.groups)
        self.grouped = grouped
        self.focus_pane()

    def watch_grouped(self, grouped: bool) -> None:
        self.set_class(grouped, "-grouped")
        self.set_count(self.count)
        if self.has_focus_within:
            self.focus_pane()

    def focus_pane(self) -> None:
        if self.grouped and self.groups is not None:
            self.groups.focus()
        else:
            self.table.focus()

    @on(JobTable.Highlighted)
    def _highlighted(self, event: JobTable.Highlighted) -> None:
        event.stop()
        self.post_message(JobHighlighted(self.status, event.key))

    @on(JobTable.Selected)
    def _selected(self, event: JobTable.Selected) -> None:
        event.stop()
        self.post_message(JobChosen(event.key))

    @on(GroupChosen)
    def _group(self, event: GroupChosen) -> None:
        self.grouped = False
