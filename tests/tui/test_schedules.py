"""Time in the monitor: the Schedules view, its jobs, pause and resume, and scheduled jobs in the
Queued pane and the detail."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeApp, settle
from monitor_scenario import (
    QUEUED_CHARGE,
    QUEUED_ECHO,
    Clock,
    Ids,
)
from test_actions import text_of
from test_monitor import main_screen, pane, row_ids, row_text

from jobdeck.core import Status
from jobdeck.tui.screens.detail import DetailScreen

SIZE = (120, 36)


async def test_the_queued_pane_counts_down_to_a_scheduled_job_and_lists_it_after_due_ones(
    make_app: MakeApp, scene: tuple[Path, Clock, Ids]
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        later = await app.engine.submit("demo.echo", {"n": 40}, delay=250)
        due = await app.engine.submit("demo.echo", {"n": 41})
        assert later.id < due.id  # by id the scheduled job would come first
        main_screen(app).refresh_data()
        await settle(pilot)
        assert row_ids(app, Status.QUEUED) == [QUEUED_ECHO, QUEUED_CHARGE, due.id, later.id]
        assert row_text(app, Status.QUEUED, later.id).endswith("in 4m10")
        assert "in " not in row_text(app, Status.QUEUED, due.id)
        # Its moment comes: on the next tick it is due, waits, and sorts by its page order.
        scene[1].advance(251)
        main_screen(app).refresh_data()
        await settle(pilot)
        assert row_ids(app, Status.QUEUED) == [QUEUED_ECHO, QUEUED_CHARGE, later.id, due.id]
        assert row_text(app, Status.QUEUED, later.id).endswith("1.0s")


async def test_no_color_still_tells_a_scheduled_job_by_its_words(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        later = await app.engine.submit("demo.echo", {"n": 40}, delay=90)
        main_screen(app).refresh_data()
        await settle(pilot)
        assert app.no_color
        assert "in 1m30" in row_text(app, Status.QUEUED, later.id)
        assert pane(app, Status.QUEUED).table.cells(later.id)[0].text == later.id[-6:]


async def test_the_detail_of_a_scheduled_job_says_so_with_its_countdown(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        later = await app.engine.submit("demo.echo", {"n": 40}, delay=250)
        await app.push_screen(DetailScreen(later.id))
        await settle(pilot)
        contract = text_of(app, "ContractView")
        assert "scheduled, in 4m10" in contract
        assert "schedule " not in contract  # not made by a schedule


async def test_the_detail_of_a_periodic_job_names_its_schedule_and_tick(
    make_app: MakeApp,
) -> None:
    from jobdeck.core.schedule import Schedule

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        engine = app.engine
        every_minute = Schedule("nightly", "demo.echo", "* * * * *")
        await engine.store.declare_schedules([("nightly", "demo.echo", "* * * * *", "UTC")], 0.0)
        made = await engine.make_ticks(every_minute, 0.0, [60.0])
        assert made is not None
        await app.push_screen(DetailScreen(made[0].id))
        await settle(pilot)
        contract = text_of(app, "ContractView")
        assert "schedule         nightly" in contract
        assert "tick             1970-01-01 00:01:00.000Z" in contract
