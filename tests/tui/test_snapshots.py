"""Pictures of the monitor on a deterministic database (fixed clock and ids, no live ticking)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import settle
from monitor_scenario import (
    DENIED_MISSING_ID,
    QUEUED_CHARGE,
    QUEUED_ECHO,
    RUNNING_SLEEP,
    factory,
    filled_db,
    scheduled_db,
    scheduled_registry,
)
from test_monitor import select
from textual.pilot import Pilot

from jobdeck.core import Status
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.detail import DetailScreen

SIZE = (120, 36)


def app_on_filled_db(tmp_path: Path) -> JobdeckApp:
    path = tmp_path / "jobs.db"
    clock, ids = asyncio.run(filled_db(path))
    return JobdeckApp(
        engine_factory=factory(path, clock, ids),
        db_label="jobs.db",
        allow_faults=True,
        tick=None,
        export_dir=tmp_path,
    )


def test_main_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=SIZE, run_before=settle)


def test_main_screen_in_80_by_24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=(80, 24), run_before=settle)


def test_detail_of_a_denied_job(snap_compare: Any, tmp_path: Path) -> None:
    async def open_detail(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.app.push_screen(DetailScreen(DENIED_MISSING_ID))
        await settle(pilot)

    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=SIZE, run_before=open_detail)


def test_help(snap_compare: Any, tmp_path: Path) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=SIZE, run_before=open_help)


def test_fault_dialog_in_80_by_24_shows_its_buttons(snap_compare: Any, tmp_path: Path) -> None:
    async def open_fault(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        select(pilot.app, Status.QUEUED, QUEUED_ECHO)
        await pilot.press("f")
        await settle(pilot)

    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=(80, 24), run_before=open_fault)


def test_cancel_dialog_in_80_by_24_shows_its_buttons(snap_compare: Any, tmp_path: Path) -> None:
    async def open_cancel(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        select(pilot.app, Status.RUNNING, RUNNING_SLEEP)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=(80, 24), run_before=open_cancel)


def test_a_paused_kind_in_80_by_24(snap_compare: Any, tmp_path: Path) -> None:
    async def pause(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        select(pilot.app, Status.QUEUED, QUEUED_CHARGE)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)

    assert snap_compare(app_on_filled_db(tmp_path), terminal_size=(80, 24), run_before=pause)


def app_on_scheduled_db(tmp_path: Path) -> JobdeckApp:
    path = tmp_path / "scheduled.db"
    clock, ids = asyncio.run(scheduled_db(path))
    return JobdeckApp(
        engine_factory=factory(path, clock, ids, registry=scheduled_registry()),
        db_label="jobs.db",
        allow_faults=True,
        tick=None,
        export_dir=tmp_path,
    )


async def open_schedules(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)


def test_schedules_in_80_by_24(snap_compare: Any, tmp_path: Path) -> None:
    app = app_on_scheduled_db(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_schedules)


def test_schedules_in_160_by_48(snap_compare: Any, tmp_path: Path) -> None:
    app = app_on_scheduled_db(tmp_path)
    assert snap_compare(app, terminal_size=(160, 48), run_before=open_schedules)


def app_on_system_db(tmp_path: Path) -> JobdeckApp:
    from test_system_views import app_on, system_db

    path = tmp_path / "system.db"
    clock, _ = asyncio.run(system_db(path))
    return app_on(path, clock)


def press(*keys: str) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


SYSTEM_SIZES = {"80_by_24": (80, 24), "160_by_48": (160, 48)}
SYSTEM_VIEWS = {
    "main_screen_with_the_throughput_strip": (),
    "workers_view": ("w",),
    "kinds_view": ("k",),
    "kind_detail": ("k", "down", "down", "enter"),  # report.build
}


@pytest.mark.parametrize("size", list(SYSTEM_SIZES))
@pytest.mark.parametrize("view", list(SYSTEM_VIEWS))
def test_system(snap_compare: Any, tmp_path: Path, view: str, size: str) -> None:
    app = app_on_system_db(tmp_path)
    steps = press(*SYSTEM_VIEWS[view])
    assert snap_compare(app, terminal_size=SYSTEM_SIZES[size], run_before=steps)
