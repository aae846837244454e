"""The Workers view (`w` on the main screen): every registered worker, live, with its host, pid,
uptime, last heartbeat, the jobs it runs now and what it finished and failed in its last 5
minutes. Enter on a worker goes back to the panes filtered to the jobs it runs.

Each tick reads the worker registry (`Store.workers`) and nothing else, and only while the view
is open.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from jobdeck.tui.messages import WorkerChosen
from jobdeck.tui.screens.live import LiveScreen
from jobdeck.tui.screens.schedules import title_line
from jobdeck.tui.system_feed import read_workers
from jobdeck.tui.widgets.worker_list import WorkerList, gone


class WorkersScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("w", "app.pop_screen", "Back", show=False),
        Binding("enter", "filter_worker", "Its jobs"),
        Binding("k", "kinds", "Kinds"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="workers-screen")
        self.worker_list = WorkerList(id="workers")
        self.title_bar = Static(classes="screen-title")
        self.alive: int | None = None  # None until the first read

    def compose(self) -> ComposeResult:
        self._title()
        yield self.title_bar
        yield self.worker_list
        yield Footer()

    async def on_mount(self) -> None:
        self.worker_list.table.focus()
        await self.start()

    async def read(self) -> None:
        workers = await read_workers(self.jobdeck.engine)
        now = self.jobdeck.engine.clock()
        self.worker_list.show(workers, now)
        alive = sum(not gone(w, now) for w in workers)
        if alive != self.alive:
            self.alive = alive
            self._title()

    def _title(self) -> None:
        # The main screen's status line's words: the workers alive (the pane says how many went).
        count = "-" if self.alive is None else str(self.alive)
        self.title_bar.update(title_line(self.jobdeck, f"workers {count}"))

    def action_filter_worker(self) -> None:
        worker = self.worker_list.selected
        if worker is None:
            self.notify("No worker has registered yet.", severity="warning")
        else:
            self.post_message(WorkerChosen(worker.name))

    @on(WorkerChosen)
    def _chosen(self, event: WorkerChosen) -> None:
        from jobdeck.tui.screens.main import MainScreen

        event.stop()
        for screen in self.app.screen_stack:
            if isinstance(screen, MainScreen):
                screen.filter_worker(event.name)
        self.app.pop_screen()

    def action_kinds(self) -> None:
        from jobdeck.tui.screens.kinds import KindsScreen

        self.app.switch_screen(KindsScreen())
