"""The `?` help: every key, what it does, and what the failure categories mean. Help is data."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jobdeck.core import Category
from jobdeck.tui.widgets import cells

KEYS: list[tuple[str, str]] = [
    ("↑ ↓  tab", "move in a pane; tab moves to the next pane"),
    ("enter", "open the selected job's detail (in the group view: show that group's jobs)"),
    ("f", "force a failure on the selected job's next attempt, or on a kind ¹"),
    ("r", "rerun the selected job and show its verdict (group view: retry the group) ¹"),
    ("x", "cancel the selected job (or the one in the detail), after a confirm with a reason ² ³"),
    ("p", "pause or resume the selected job's kind for every worker, after a confirm ²"),
    ("s", "submit a job: kind and JSON payload ²"),
    ("/", "filter every pane by kind, id, reason code or payload text; esc clears"),
    ("g", "group the Failed pane by reason code, with counts"),
    ("e", "export the selected job as a Markdown incident report"),
    ("t", "schedules, their next runs and their jobs; p pauses or resumes one ²"),
    ("w", "workers: host, pid, uptime, last heartbeat, jobs running, done/failed in 5 min"),
    ("  enter", "in workers: show that worker's running jobs in the panes; esc shows all again"),
    ("k", "kinds: jobs by status, rates, failure rate, run-time p50/p95/p99, oldest wait"),
    ("  s  r", "in kinds: sort by the next column, reverse the order"),
    ("  enter", "in kinds: that kind's run-time histogram and throughput over time"),
    ("ctrl+p", "command palette: every action by name"),
    ("esc", "back from a detail or a dialog"),
    ("?", "this help"),
    ("q", "quit"),
]
NOTES = [
    "¹ needs --allow-faults (on in jobdeck demo); hidden with --read-only.",
    "² hidden with --read-only.",
    "³ not on a failure group; a running job's worker stops it and undoes its steps.",
    "‖ before a kind in Queued: that kind is paused (the top line lists the paused kinds).",
    "The line under the top one: done and failed per second over the last 5 minutes, a bar "
    "per 10 s, and the queue depth; the number after each is its latest value.",
]
CATEGORIES: list[tuple[Category, str]] = [
    (Category.DENIED, "a gate refused the payload; the job never ran"),
    (Category.TERMINAL, "the handler said it cannot succeed; not retried"),
    (Category.RETRIES_EXHAUSTED, "retryable failures used up every attempt"),
    (Category.INJECTED, "an operator forced this failure (f or jobdeck fail)"),
    (Category.LOST_LEASE, "the worker stopped renewing its lease"),
    (Category.CANCELLED, "an operator cancelled it (x or jobdeck cancel)"),
]


def help_table() -> Table:
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, text in KEYS:
        table.add_row(key, text)
    table.add_row("", "")
    for note in NOTES:
        table.add_row("", Text(note, style="dim"))
    table.add_row("", "")
    table.add_row(Text("failed because", style="bold underline"), "")
    for category, text in CATEGORIES:
        table.add_row(cells.category(category), text)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help") as dialog:
            dialog.border_title = "jobdeck keys"
            dialog.border_subtitle = "esc to close"
            yield Static(help_table())

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
