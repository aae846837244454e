"""The monitor app: opens the engine, wires the operator and the screens, and nothing else.

run_monitor("jobs.db", allow_faults=False, read_only=True, demo=False)

What the first paint does not need (the demo workers, the help, the command palette's provider,
the dialogs) is imported when first used: a monitor opens in well under a second.
"""

from __future__ import annotations

import asyncio
import sys
import termios
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from jobdeck.core.errors import JobdeckError
from jobdeck.tui.operator import Mode, Operator
from jobdeck.tui.screens.main import MainScreen

# Seconds between checks that the terminal is still there (one tcgetattr call each).
TERMINAL_CHECK = 1.0

if TYPE_CHECKING:
    from textual.command import Provider

    from jobdeck.core import Engine, Registry
    from jobdeck.tui.embedded import EmbeddedWorkers

EngineFactory = Callable[[], Awaitable["Engine"]]


def jobdeck_commands() -> type[Provider]:
    """The command palette's provider, loaded when the palette first opens."""
    from jobdeck.tui.commands import JobdeckCommands

    return JobdeckCommands


class JobdeckApp(App[int]):
    """The live monitor over one engine.

    Pass a ready `engine`, or an `engine_factory` the app awaits on mount (and whose store it
    closes on quit). `tick` is the refresh period in seconds; None refreshes only on demand,
    which tests and screenshots use. `demo_workers` > 0 runs that many workers and the demo
    workload inside the app.
    """

    CSS_PATH = "jobdeck.tcss"
    TITLE = "jobdeck"
    COMMANDS = App.COMMANDS | {jobdeck_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        *,
        engine: Engine | None = None,
        engine_factory: EngineFactory | None = None,
        db_label: str,
        allow_faults: bool = False,
        read_only: bool = False,
        tick: float | None = 1.0,
        demo_workers: int = 0,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        if (engine is None) == (engine_factory is None):
            raise ValueError("pass either an engine or an engine_factory")
        self._engine = engine
        self._engine_factory = engine_factory
        self.db_label = db_label
        self.mode = Mode(allow_faults=allow_faults, read_only=read_only)
        self.tick = tick
        self.demo_workers = demo_workers
        self.export_dir = export_dir or Path.cwd()
        self._embedded: EmbeddedWorkers | None = None
        self._terminal = -1  # the terminal's file descriptor, once watched

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the engine is opened on mount")
        return self._engine

    @property
    def mode_label(self) -> str:
        if self.mode.read_only:
            return "read-only"
        words = ["demo"] if self.demo_workers else []
        words.append("faults on" if self.mode.allow_faults else "faults off")
        return " · ".join(words)

    async def on_mount(self) -> None:
        if self._engine_factory is not None:
            try:
                self._engine = await self._engine_factory()
            except JobdeckError as err:
                self.exit(err.exit_code, message=str(err))
                return
        self.operator = Operator(
            self.engine, self.mode, self, db=self.db_label, export_dir=self.export_dir
        )
        if self.demo_workers and not self.mode.read_only:
            from jobdeck.tui.embedded import EmbeddedWorkers

            self._embedded = EmbeddedWorkers(self.engine, self.demo_workers)
            self._embedded.start()
        await self.push_screen(MainScreen())
        if not self.is_headless and sys.__stdin__ is not None and sys.__stdin__.isatty():
            self._terminal = sys.__stdin__.fileno()
            self.set_interval(TERMINAL_CHECK, self._check_terminal)

    async def _check_terminal(self) -> None:
        """Quit when the terminal has hung up. Started under make (or anything that keeps
        the signal to itself), the monitor gets no SIGHUP when its window closes, and Textual's
        input thread would spin on the dead terminal at a full core, forever."""
        try:
            termios.tcgetattr(self._terminal)
        except (termios.error, OSError):
            await self.action_quit()

    async def action_quit(self) -> None:
        await self._stop_background()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self._stop_background()

    async def _stop_background(self) -> None:
        if self._embedded is not None:
            embedded, self._embedded = self._embedded, None
            await embedded.stop()
        if self._engine_factory is not None and self._engine is not None:
            engine, self._engine_factory = self._engine, None
            await engine.store.close()

    def action_help(self) -> None:
        from jobdeck.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def run_monitor(
    db: str,
    *,
    allow_faults: bool,
    read_only: bool,
    demo: bool,
    workers: int = 2,
    tick: float = 1.0,
    registry: Registry | None = None,
) -> int:
    """Open the monitor on the database at `db` until the user quits; returns the exit code.

    `demo` runs `workers` embedded workers, the demo workload and the demo's schedules, and turns
    faults on.
    Raises JobdeckError (e.g. StorageError) when the database cannot be opened.
    """
    from jobdeck.core import Engine, Registry, demo_registry
    from jobdeck.storage import open_store

    registry = registry or demo_registry()
    if demo and "demo.digest" in registry:
        from jobdeck.core.demo import add_demo_schedules

        # On a copy: the caller's registry keeps no demo schedule.
        registry = registry.merge(Registry())
        add_demo_schedules(registry)

    async def main() -> int:
        store = await open_store(db, read_only=read_only)
        try:
            engine = Engine(store, registry)
            app = JobdeckApp(
                engine=engine,
                db_label=db,
                allow_faults=allow_faults or demo,
                read_only=read_only,
                tick=tick,
                demo_workers=workers if demo else 0,
            )
            await app.run_async()
            return app.return_code or 0
        finally:
            await store.close()

    return asyncio.run(main())
