"""One kind's detail (Enter in the Kinds view): its numbers, its run-time histogram over the last
15 minutes, and its done and failed per second in each 10-second bucket of the last 15 minutes
(the last 5 as the rollup keeps them, each minute before that as its average).

Each tick reads that kind's rollup rows, the per-kind counts and the oldest queued job per kind,
and only while the view is open.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.widgets import Footer, Static

from jobdeck.tui.screens.live import LiveScreen
from jobdeck.tui.screens.schedules import title_line
from jobdeck.tui.system_feed import HISTORY, WINDOW, read_kind
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.kind_summary import KindSummary
from jobdeck.tui.widgets.kind_throughput import KindThroughput
from jobdeck.tui.widgets.run_time_histogram import RunTimeHistogram

WIDE = 120


class KindDetailScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, kind: str) -> None:
        super().__init__(classes="kind-detail-screen")
        self.kind = kind
        self.summary = KindSummary(id="kind-summary")
        self.histogram = RunTimeHistogram(id="kind-histogram")
        self.throughput = KindThroughput(id="kind-throughput")

    def compose(self) -> ComposeResult:
        what = f"kind {cells.printable(self.kind)}"
        yield Static(title_line(self.jobdeck, what), classes="screen-title")
        with VerticalScroll(id="kind-detail"):
            yield self.summary
            yield self.throughput
            yield self.histogram
        yield Footer()

    async def on_mount(self) -> None:
        await self.start()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    async def read(self) -> None:
        history = await read_kind(self.jobdeck.engine, self.kind)
        window = f"{WINDOW / 60:.0f}m"
        self.summary.show(history.stats, window)
        stats = history.stats
        runs = 0 if stats is None else sum(stats.histogram)
        title = f"Run time, last {window} · {runs:,} runs"
        self.histogram.show(() if stats is None else stats.histogram, title)
        self.throughput.show(
            history.done, history.failed, f"Done and failed per second, last {HISTORY / 60:.0f}m"
        )
