from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from monitor_scenario import Clock, Ids, factory, filled_db
from textual.pilot import Pilot

from jobdeck.tui.app import JobdeckApp


async def settle(pilot: Pilot[object]) -> None:
    """Let posted messages and every running worker (engine reads) finish."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture
async def scene(tmp_path: Path) -> tuple[Path, Clock, Ids]:
    path = tmp_path / "jobs.db"
    clock, ids = await filled_db(path)
    return path, clock, ids


MakeApp = Callable[..., JobdeckApp]


@pytest.fixture
def make_app(scene: tuple[Path, Clock, Ids], tmp_path: Path) -> MakeApp:
    path, clock, ids = scene

    def make(*, allow_faults: bool = True, read_only: bool = False) -> JobdeckApp:
        return JobdeckApp(
            engine_factory=factory(path, clock, ids, read_only=read_only),
            db_label="jobs.db",
            allow_faults=allow_faults,
            read_only=read_only,
            tick=None,
            export_dir=tmp_path,
        )

    return make
