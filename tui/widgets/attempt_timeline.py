"""Each attempt of a job: when it started (after the job was created), how long it took, how it
ended and why."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Attempt
from jobdeck.tui.widgets import cells


def render_attempt_timeline(
    attempts: list[Attempt], created_at: float, now: float
) -> RenderableType:
    if not attempts:
        return Text("No attempts: the job never ran.", style="dim")
    table = Table(box=None, padding=(0, 1), expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("reason", ratio=1)
    for a in attempts:
        end = a.finished_at if a.finished_at is not None else now
        took = cells.span(end - a.started_at)
        reason = Text()
        if a.reason is not None:
            reason.append(a.reason.code, style="bold")
            reason.append(" ")
            reason.append_text(cells.category(a.reason.category))
            reason.append(f" {a.reason.message}")
        table.add_row(
            str(a.n),
            f"+{cells.span(a.started_at - created_at)}",
            took,
            cells.outcome(a.outcome),
            reason,
        )
    return table


class AttemptTimeline(Static):
    def __init__(self, attempts: list[Attempt], *, created_at: float, now: float) -> None:
        super().__init__(render_attempt_timeline(attempts, created_at, now), classes="section")
        self.border_title = f"Attempts {len(attempts)}"
