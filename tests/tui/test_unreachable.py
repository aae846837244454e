"""The monitor while its database is out of reach (a PostgreSQL restart, dropped connections):
the status line says "store unreachable, retrying" in words, the ticks go on, and the first
read that works clears it and brings the panes up to date, with no key pressed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from monitor_scenario import Clock, Ids, factory
from textual.pilot import Pilot

from jobdeck.core import Engine, Status, StoreUnavailable
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.main import MainScreen

TICK = 0.02
TICKS = 500  # an upper bound on the ticks waited for a change, never reached when it works


class Outage:
    """Makes the engine's store raise StoreUnavailable on every read while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.failed_reads = 0

    def wrap(self, engine: Engine) -> None:
        store: Any = engine.store
        real = store.last_cursor

        async def last_cursor() -> int:
            if self.down:
                self.failed_reads += 1
                raise StoreUnavailable(
                    "cannot reach the PostgreSQL server at db:5432: nothing accepts connections."
                )
            return int(await real())

        store.last_cursor = last_cursor


def ticking_app(scene: tuple[Path, Clock, Ids], outage: Outage, tmp_path: Path) -> JobdeckApp:
    path, clock, ids = scene
    open_engine = factory(path, clock, ids)

    async def opened() -> Engine:
        engine = await open_engine()
        outage.wrap(engine)
        return engine

    return JobdeckApp(engine_factory=opened, db_label="jobs.db", tick=TICK, export_dir=tmp_path)


def header(app: JobdeckApp) -> str:
    return str(app.screen.query_one("#status-bar").render())


async def until(pilot: Pilot[object], holds: Callable[[], bool]) -> bool:
    """Let the app tick until `holds()` (True), or give up after TICKS ticks (False)."""
    for _ in range(TICKS):
        if holds():
            return True
        await pilot.pause(TICK)
    return holds()


async def test_the_status_line_says_unreachable_and_clears_itself_when_reads_work_again(
    scene: tuple[Path, Clock, Ids], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    outage = Outage()
    app = ticking_app(scene, outage, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await until(pilot, lambda: isinstance(app.screen, MainScreen))
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert app.no_color
        assert "unreachable" not in header(app)

        outage.down = True
        # A job arrives while the monitor cannot see it: it shows once reads work again.
        await app.engine.submit("demo.echo", {"n": 9, "msg": "during the outage"})
        assert await until(pilot, lambda: outage.failed_reads >= 3)
        line = header(app)
        assert line.startswith(" jobdeck   store unreachable, retrying"), line
        assert not app._notifications  # said on the status line, not in a pile of toasts

        outage.down = False
        assert await until(pilot, lambda: "unreachable" not in header(app)), header(app)
        queued = screen.pane(Status.QUEUED)
        assert await until(pilot, lambda: str(queued.border_title) == "Queued 3")
        assert "jobs.db" in header(app)


async def test_other_database_trouble_is_still_a_notification(
    scene: tuple[Path, Clock, Ids], tmp_path: Path
) -> None:
    """Only an outage goes to the status line; an error that retrying will not fix is shown
    as before, once."""
    from jobdeck.core import StorageError

    outage = Outage()
    app = ticking_app(scene, outage, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await until(pilot, lambda: isinstance(app.screen, MainScreen))
        store: Any = app.engine.store

        async def broken() -> int:
            raise StorageError("the database jobs.db was written by a newer jobdeck.")

        store.last_cursor = broken
        assert await until(pilot, lambda: bool(app._notifications))
        assert "unreachable" not in header(app)
        assert [n.message for n in app._notifications] == [
            "the database jobs.db was written by a newer jobdeck."
        ]
