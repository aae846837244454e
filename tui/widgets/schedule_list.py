"""The Schedules view's list: one row per periodic schedule with its next run counting down, its
last tick and how that tick's job went, and whether an operator paused it.

The rows come from `Engine.schedules()`; the table is the monitor's job table keyed by schedule
name, so a tick repaints only the countdowns that moved.
"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical

from jobdeck.core import Job, Status
from jobdeck.core.engine import ScheduleView
from jobdeck.core.schedule import tick_of
from jobdeck.tui.messages import ScheduleChosen, ScheduleHighlighted
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.job_table import Cell, Column, JobTable, Row

# A narrow terminal drops the kind, the zone and the pause's reason first: the panel under the
# list spells them out, and `next run` already says `paused`. The outcome is wide enough for a
# reason code before the pause's reason takes the rest.
COLUMNS = [
    Column("name", "name", 14, 0),
    Column("kind", "kind", 12, 6),
    Column("cron", "cron", 11, 2),
    Column("tz", "tz", 12, 5),
    Column("next", "next run", 8, 0),
    Column("last", "last run", 8, 3),
    Column("outcome", "outcome", 16, 1, flex=True, cap=26),
    Column("paused", "paused", 10, 4, flex=True),
]
PAUSED_STYLE = "yellow"
NEXT_STYLE = "cyan"


def declared(view: ScheduleView) -> tuple[str, str, str]:
    """(kind, cron, tz) as this monitor's registry declares them, else as the database holds."""
    if view.entry is not None:
        return view.entry.kind, view.entry.cron, view.entry.tz
    if view.state is not None:
        return view.state.kind, view.state.cron, view.state.tz
    return "-", "-", "-"


def paused(view: ScheduleView) -> bool:
    return view.state is not None and view.state.paused


def last_tick(view: ScheduleView) -> float | None:
    """The instant of the schedule's newest tick, read from its job's key (the stored last tick
    also moves when a schedule is resumed); None when it has made no job yet."""
    job = view.state.last_job if view.state is not None else None
    made = tick_of(job.idempotency_key) if job is not None else None
    if made is None:
        return None
    try:
        return datetime.fromisoformat(made[1]).timestamp()
    except ValueError:
        return None


def next_cell(view: ScheduleView, now: float) -> Cell:
    if paused(view):
        return Cell("paused", PAUSED_STYLE)
    if view.next_tick is None:
        return Cell("-")
    return Cell(cells.countdown(view.next_tick - now), NEXT_STYLE)


def outcome_cell(job: Job | None) -> Cell:
    """How the newest tick's job stands: its status, and the reason code when it failed."""
    if job is None:
        return Cell("-")
    words = job.status.value
    if job.status is Status.FAILED and job.reason is not None:
        words = f"{words} {job.reason.code}"
    return Cell(words, cells.STATUS_STYLE[job.status])


def schedule_cells(view: ScheduleView, now: float) -> tuple[Cell, ...]:
    kind, cron, tz = declared(view)
    tick = last_tick(view)
    state = view.state
    reason = ""
    if state is not None and state.paused:
        reason = state.paused_reason or "yes"
    return (
        Cell(view.name),
        Cell(kind),
        Cell(cron),
        Cell(tz),
        next_cell(view, now),
        Cell("never" if tick is None else f"{cells.span(now - tick)} ago"),
        outcome_cell(state.last_job if state is not None else None),
        Cell(reason or "-", PAUSED_STYLE if reason else ""),
    )


class ScheduleList(Vertical):
    """A titled pane of schedules. `show(views, now)` takes what `Engine.schedules()` read."""

    def __init__(self, *, can_pause: bool, id: str | None = None) -> None:
        super().__init__(id=id, classes="schedule-pane")
        self.views: list[ScheduleView] = []
        self.table = JobTable(COLUMNS, id="schedule-table")
        self.border_title = "Schedules"
        self.border_subtitle = "enter: its jobs" + (" · p: pause/resume" if can_pause else "")

    def compose(self) -> ComposeResult:
        yield self.table

    @property
    def selected(self) -> ScheduleView | None:
        name = self.table.selected_key
        return next((view for view in self.views if view.name == name), None)

    def show(self, views: list[ScheduleView], now: float) -> None:
        self.views = views
        held = sum(paused(view) for view in views)
        title = f"Schedules {len(views)}" + (f" · {held} paused" if held else "")
        if self.border_title != title:  # a new title repaints the whole pane
            self.border_title = title
        rows: list[Row] = [(view.name, schedule_cells(view, now)) for view in views]
        self.table.show(rows)

    @on(JobTable.Highlighted)
    def _highlighted(self, event: JobTable.Highlighted) -> None:
        event.stop()
        self.post_message(ScheduleHighlighted(event.key))

    @on(JobTable.Selected)
    def _selected(self, event: JobTable.Selected) -> None:
        event.stop()
        self.post_message(ScheduleChosen(event.key))
