"""The Kinds view (`k` on the main screen): per kind, its jobs by status, done and failed per
minute over the last 1, 5 and 15 minutes, the failure rate, run-time p50/p95/p99 over the last
15 minutes and the oldest queued job's wait, as `jobdeck stats` prints them, live and sorted by
any column. Enter on a kind opens its run-time histogram and throughput over time.

Each tick reads the per-kind counts, the oldest queued job per kind and 15 minutes of the rollup,
and only while the view is open.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from jobdeck.tui.messages import KindChosen
from jobdeck.tui.screens.live import LiveScreen
from jobdeck.tui.screens.schedules import title_line
from jobdeck.tui.system_feed import WINDOW, read_kinds
from jobdeck.tui.widgets.kind_list import KindList


class KindsScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("k", "app.pop_screen", "Back", show=False),
        Binding("enter", "open_kind", "Run times"),
        Binding("s", "sort_next", "Sort"),
        Binding("r", "reverse", "Reverse"),
        Binding("w", "workers", "Workers"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="kinds-screen")
        self.kind_list = KindList(window=f"{WINDOW / 60:.0f}m", id="kinds")

    def compose(self) -> ComposeResult:
        yield Static(title_line(self.jobdeck, "kinds"), classes="screen-title")
        yield self.kind_list
        yield Footer()

    async def on_mount(self) -> None:
        self.kind_list.table.focus()
        await self.start()

    async def read(self) -> None:
        self.kind_list.show(await read_kinds(self.jobdeck.engine))

    def action_sort_next(self) -> None:
        self.kind_list.sort_next()

    def action_reverse(self) -> None:
        self.kind_list.reverse()

    def action_open_kind(self) -> None:
        kind = self.kind_list.selected
        if kind is None:
            self.notify("No kind has jobs yet.", severity="warning")
        else:
            self.post_message(KindChosen(kind))

    @on(KindChosen)
    def _chosen(self, event: KindChosen) -> None:
        from jobdeck.tui.screens.kind_detail import KindDetailScreen

        event.stop()
        self.app.push_screen(KindDetailScreen(event.kind))

    def action_workers(self) -> None:
        from jobdeck.tui.screens.workers import WorkersScreen

        self.app.switch_screen(WorkersScreen())
