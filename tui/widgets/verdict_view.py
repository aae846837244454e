"""A rerun's verdict against its original: idempotent ✓ or diverged ✗ with what changed."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core import Job, RerunReport, Verdict
from jobdeck.tui.widgets import cells


def verdict_text(report: RerunReport | None) -> Text:
    if report is None:
        return Text("pending: waits for both jobs to finish", style="dim")
    if report.verdict is Verdict.IDEMPOTENT:
        return Text("idempotent ✓", style="bold green")
    return Text("diverged ✗", style="bold red")


def render_verdict(original: Job, report: RerunReport | None) -> RenderableType:
    head = Text()
    head.append_text(verdict_text(report))
    head.append(f"  against the original {cells.short_id(original.id)} ({original.status.value})")
    if report is None or not report.diff:
        return head
    table = Table(box=None, padding=(0, 1), expand=True)
    table.add_column("path", style="bold", no_wrap=True)
    table.add_column("was", ratio=1)
    table.add_column("now", ratio=1)
    for path, change in report.diff.items():
        was = change.get("was") if isinstance(change, dict) else None
        now = change.get("now") if isinstance(change, dict) else None
        table.add_row(path, cells.pretty_json(was), cells.pretty_json(now))
    return Group(head, table)


class VerdictView(Static):
    def __init__(self, original: Job, report: RerunReport | None) -> None:
        super().__init__(render_verdict(original, report), classes="section verdict-view")
        self.border_title = "Rerun verdict"
