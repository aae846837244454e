"""A job's contract fields, payload and result."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Job
from jobdeck.tui.widgets import cells


def render_contract(job: Job) -> RenderableType:
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
    grid.add_row("run after", cells.utc(job.run_after))
    if job.lease_owner:
        grid.add_row("lease", f"{job.lease_owner} until {cells.utc(job.lease_expires_at)}")
    parts: list[RenderableType] = [grid, Text("payload", style="bold")]
    parts.append(Text(cells.pretty_json(job.payload)))
    if job.result is not None:
        parts += [Text("result", style="bold"), Text(cells.pretty_json(job.result))]
    return Group(*parts)


class ContractView(Static):
    def __init__(self, job: Job) -> None:
        super().__init__(render_contract(job), classes="section")
        self.border_title = "Contract"
