"""The jobs one schedule made, newest tick first: each with its tick, status, reason and age."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical

from jobdeck.core import Job
from jobdeck.core.schedule import tick_of
from jobdeck.tui.messages import JobChosen
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.job_pane import ATTEMPT, CODE, ID
from jobdeck.tui.widgets.job_table import Cell, Column, JobTable, Row

COLUMNS = [
    ID,
    Column("tick", "tick", 20, 0),
    Column("status", "status", 7, 0),
    ATTEMPT,
    CODE,
    Column("age", "age", 5, 2),
]


def tick_cell(job: Job) -> Cell:
    """The instant the job was made for, to the second in UTC, as its key names it."""
    made = tick_of(job.idempotency_key)
    if made is None:
        return Cell("-")
    try:
        moment = datetime.fromisoformat(made[1]).astimezone(UTC)
    except ValueError:
        return Cell(made[1])
    return Cell(moment.strftime("%Y-%m-%d %H:%M:%SZ"))


def job_cells(job: Job, now: float) -> tuple[Cell, ...]:
    return (
        Cell(cells.short_id(job.id)),
        tick_cell(job),
        Cell(job.status.value, cells.STATUS_STYLE[job.status]),
        Cell(f"{job.attempt}/{job.max_attempts}", right=True),
        Cell(job.reason.code if job.reason else "-"),
        Cell(cells.span(now - job.updated_at), right=True),
    )


class ScheduleJobs(Vertical):
    """A titled pane of one schedule's jobs. `show(jobs, now)`; Enter posts JobChosen."""

    def __init__(self, schedule: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="schedule-pane")
        self.schedule = schedule
        self.table = JobTable(COLUMNS, id="schedule-jobs-table")
        self.border_title = f"Jobs of {schedule}"
        self.border_subtitle = "enter: detail · newest tick first"

    def compose(self) -> ComposeResult:
        yield self.table

    def show(self, jobs: list[Job], now: float) -> None:
        rows: list[Row] = [(job.id, job_cells(job, now)) for job in jobs]
        self.table.show(rows)

    @on(JobTable.Selected)
    def _selected(self, event: JobTable.Selected) -> None:
        event.stop()
        self.post_message(JobChosen(event.key))
