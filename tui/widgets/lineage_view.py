"""The rerun lineage of a job: the job it reruns (or that retention pruned it), and its own reruns
with their verdicts."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Job, RerunReport
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.verdict_view import verdict_text


def render_lineage(
    original: Job | None,
    reruns: list[tuple[Job, RerunReport | None]],
    pruned: str | None = None,
) -> RenderableType:
    """`pruned` is the id of the original when the job is a rerun whose original is gone."""
    if original is None and pruned is None and not reruns:
        return Text("Not a rerun, and never rerun.", style="dim")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()
    if original is not None:
        table.add_row("rerun of", original.id, cells.status(original.status), "")
    elif pruned is not None:
        table.add_row("rerun of", pruned, Text("original pruned", style="dim"), "")
    for rerun, report in reruns:
        table.add_row("rerun", rerun.id, cells.status(rerun.status), verdict_text(report))
    return table


class LineageView(Static):
    def __init__(
        self,
        original: Job | None,
        reruns: list[tuple[Job, RerunReport | None]],
        pruned: str | None = None,
    ) -> None:
        super().__init__(render_lineage(original, reruns, pruned), classes="section")
        self.border_title = "Lineage"
