"""The panel under the schedule list: everything about the highlighted schedule, spelled out,
including what a narrow list leaves out (its kind, its zone and its payload)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core.engine import ScheduleView, canonical_json
from jobdeck.core.schedule import MAX_CATCH_UP
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.schedule_list import (
    NEXT_STYLE,
    PAUSED_STYLE,
    declared,
    last_tick,
    outcome_cell,
    paused,
)

NONE_YET = (
    "No schedules yet. Declare one with registry.every(kind, cron) or "
    "@registry.kind(name, schedule=cron); a worker records it when it starts."
)


CATCH_UP = {
    False: "off: after a stop, only the latest missed tick is made",
    True: f"on: after a stop, every missed tick is made (at most {MAX_CATCH_UP})",
}


def render_about(view: ScheduleView, now: float, *, known: bool) -> RenderableType:
    """The schedule's declaration, next and last run and pause. `known`: this monitor's registry
    declares it, so its payload and catch-up are known here (the database keeps neither)."""
    kind, cron, tz = declared(view)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("kind", kind)
    grid.add_row("cron", f"{cron}  in {tz}")
    if known and view.entry is not None:
        grid.add_row("payload", canonical_json(dict(view.entry.payload)))
        grid.add_row("catch-up", CATCH_UP[view.entry.catch_up])
    grid.add_row("next run", next_run(view, now))
    grid.add_row("last run", last_run(view))
    state = view.state
    if state is not None and state.paused:
        why = Text(f"since {cells.utc(state.changed_at)}", style=PAUSED_STYLE)
        if state.paused_reason:
            why.append(f": {state.paused_reason}")
        grid.add_row("paused", why)
    return grid


def next_run(view: ScheduleView, now: float) -> Text:
    if paused(view):
        return Text("none while paused", style=PAUSED_STYLE)
    if view.next_tick is None:
        return Text("unknown: this jobdeck cannot read its cron expression")
    text = Text(f"{cells.utc(view.next_tick)}  ")
    text.append(cells.countdown(view.next_tick - now), style=NEXT_STYLE)
    return text


def last_run(view: ScheduleView) -> Text:
    if view.state is None:
        return Text("never: no worker has run it yet")
    job, tick = view.state.last_job, last_tick(view)
    if job is None or tick is None:
        return Text("never")
    outcome = outcome_cell(job)
    text = Text(f"{cells.utc(tick)}  job {cells.short_id(job.id)} ")
    text.append(outcome.text, style=outcome.style)
    return text


class ScheduleAbout(Static):
    """Shows one schedule (`show`) or, with none, how to declare one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(NONE_YET, id=id, classes="section")
        self.border_title = "Schedule"

    def show(self, view: ScheduleView | None, now: float, *, known: bool) -> None:
        if view is None:
            self.border_title = "Schedule"
            self.update(NONE_YET)
            return
        self.border_title = view.name
        self.update(render_about(view, now, known=known))
