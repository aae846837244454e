"""A job's contract fields, payload and result; for a job a schedule made, the schedule and
tick it came from, and for a job scheduled for later, the countdown to its moment."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Job
from jobdeck.core.schedule import tick_of
from jobdeck.tui.widgets import cells

SCHEDULED_STYLE = "cyan"


def render_contract(job: Job, now: float) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("id", job.id)
    grid.add_row("kind", job.kind)
    grid.add_row("status", cells.status(job.status))
    grid.add_row("attempt", f"{job.attempt} of {job.max_attempts}")
    grid.add_row("idempotency key", job.idempotency_key)
    grid.add_row("rerun of", job.rerun_of or "-")
    grid.add_row("created", cells.utc(job.created_at))
    grid.add_row("updated", cells.utc(job.updated_at))
    grid.add_row("run after", run_after(job, now))
    if job.priority:
        grid.add_row("priority", f"{job.priority:+d}  (higher runs first; default 0)")
    made = tick_of(job.idempotency_key)
    if made is not None:
        grid.add_row("schedule", made[0])
        grid.add_row("tick", tick_text(made[1]))
    if job.lease_owner:
        grid.add_row("lease", f"{job.lease_owner} until {cells.utc(job.lease_expires_at)}")
    parts: list[RenderableType] = [grid, Text("payload", style="bold")]
    parts.append(Text(cells.pretty_json(job.payload)))
    if job.result is not None:
        parts += [Text("result", style="bold"), Text(cells.pretty_json(job.result))]
    return Group(*parts)


def run_after(job: Job, now: float) -> Text:
    """When the job may run; while that is ahead, the words `scheduled, in 4m10` after it."""
    if not cells.scheduled(job, now):
        return Text(cells.utc(job.run_after))
    text = Text(f"{cells.utc(job.run_after)}  ")
    text.append(f"scheduled, {cells.countdown(job.run_after - now)}", style=SCHEDULED_STYLE)
    return text


def tick_text(instant: str) -> str:
    """A tick's instant as the other times here read; as the key holds it if it is not ISO."""
    try:
        return cells.utc(datetime.fromisoformat(instant).timestamp())
    except ValueError:
        return instant


class ContractView(Static):
    """The contract of one job; `tick(now)` redraws the countdown while the job waits."""

    def __init__(self, job: Job, now: float) -> None:
        super().__init__(render_contract(job, now), classes="section")
        self.job = job
        self._counting = cells.scheduled(job, now)
        self.border_title = "Contract"

    def tick(self, now: float) -> None:
        # Once more after the moment passes, so the countdown does not linger.
        if self._counting:
            self._counting = cells.scheduled(self.job, now)
            self.update(render_contract(self.job, now))
