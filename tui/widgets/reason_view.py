"""The one authoritative reason a job failed: code, category, gate, message and evidence."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Reason
from jobdeck.tui.widgets import cells


def render_reason(reason: Reason | None) -> RenderableType:
    if reason is None:
        return Text("No failure reason: this job has not failed.", style="dim")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("code", Text(reason.code, style="bold"))
    grid.add_row("category", cells.category(reason.category))
    grid.add_row("gate", reason.gate or "-")
    grid.add_row("retryable", "yes" if reason.retryable else "no")
    grid.add_row("message", reason.message)
    if not reason.evidence:
        return grid
    evidence = Text(cells.pretty_json(reason.evidence))
    return Group(grid, Text("evidence", style="bold"), evidence)


class ReasonView(Static):
    def __init__(self, reason: Reason | None) -> None:
        super().__init__(render_reason(reason), classes="section reason-view")
        self.border_title = "Reason"
