"""Time in the monitor: the Schedules view, its jobs, pause and resume, and scheduled jobs in the
Queued pane and the detail."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeApp, settle
from monitor_scenario import (
    DIGEST_AT_1,
    DIGEST_AT_5,
    QUEUED_CHARGE,
    QUEUED_ECHO,
    Clock,
    Ids,
    factory,
    scheduled_db,
    scheduled_registry,
)
from test_actions import text_of
from test_monitor import main_screen, pane, row_ids, row_text

from jobdeck.core import Status
from jobdeck.core.demo import FLAKY_SCHEDULE
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.confirm import ConfirmScreen
from jobdeck.tui.screens.detail import DetailScreen
from jobdeck.tui.screens.main import MainScreen
from jobdeck.tui.screens.schedules import ScheduleJobsScreen, SchedulesScreen

SIZE = (120, 36)


@pytest.fixture
async def scheduled(tmp_path: Path) -> tuple[Path, Clock, Ids]:
    path = tmp_path / "scheduled.db"
    clock, ids = await scheduled_db(path)
    return path, clock, ids


@pytest.fixture
def make_scheduled_app(scheduled: tuple[Path, Clock, Ids], tmp_path: Path) -> MakeApp:
    path, clock, ids = scheduled

    def make(*, read_only: bool = False) -> JobdeckApp:
        return JobdeckApp(
            engine_factory=factory(
                path, clock, ids, read_only=read_only, registry=scheduled_registry()
            ),
            db_label="jobs.db",
            read_only=read_only,
            tick=None,
            export_dir=tmp_path,
        )

    return make


def schedules_screen(app: JobdeckApp) -> SchedulesScreen:
    assert isinstance(app.screen, SchedulesScreen)
    return app.screen


def schedule_row(app: JobdeckApp, name: str) -> str:
    return " ".join(str(cell) for cell in schedules_screen(app).schedules.table.cells(name))


def select_schedule(app: JobdeckApp, name: str) -> None:
    table = schedules_screen(app).schedules.table
    table.move_cursor(table.keys.index(name))


async def paused_in_engine(app: JobdeckApp, name: str) -> bool:
    views = {view.name: view for view in await app.engine.schedules()}
    state = views[name].state
    assert state is not None
    return state.paused


async def test_t_opens_the_schedules_with_next_run_last_run_and_outcome(
    make_scheduled_app: MakeApp,
) -> None:
    app = make_scheduled_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = schedules_screen(app)
        assert screen.schedules.table.keys == ["demo.digest", FLAKY_SCHEDULE]
        digest = schedule_row(app, "demo.digest")
        assert "* * * * *" in digest and "UTC" in digest
        assert "in 39s" in digest and "21s ago" in digest and "done" in digest
        flaky = schedule_row(app, FLAKY_SCHEDULE)
        assert "Europe/Paris" in flaky and "failed injected_terminal" in flaky
        assert "paused" in flaky and "provider maintenance until 02:00" in flaky
        assert str(screen.schedules.border_title) == "Schedules 2 · 1 paused"
        about = text_of(app, "#schedule-about")
        assert "2026-01-01 00:06:00.000Z" in about and "in 39s" in about
        await pilot.press("t")
        assert isinstance(app.screen, MainScreen)


async def test_the_countdown_moves_with_the_clock_on_each_read(
    make_scheduled_app: MakeApp, scheduled: tuple[Path, Clock, Ids]
) -> None:
    app = make_scheduled_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        scheduled[1].advance(30)
        schedules_screen(app).refresh_data()
        await settle(pilot)
        assert "in 9s" in schedule_row(app, "demo.digest")


async def test_enter_lists_the_jobs_a_schedule_made_and_enter_on_one_opens_its_detail(
    make_scheduled_app: MakeApp,
) -> None:
    app = make_scheduled_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        select_schedule(app, "demo.digest")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleJobsScreen)
        table = app.screen.jobs.table
        assert table.keys == [DIGEST_AT_5, DIGEST_AT_1]  # newest tick first
        assert "2026-01-01 00:05:00Z" in " ".join(map(str, table.cells(DIGEST_AT_5)))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        contract = text_of(app, "ContractView")
        assert "schedule" in contract and "demo.digest" in contract
        assert "2026-01-01 00:05:00.000Z" in contract
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, SchedulesScreen)


async def test_p_pauses_and_resumes_a_schedule_after_a_confirm(
    make_scheduled_app: MakeApp,
) -> None:
    app = make_scheduled_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        select_schedule(app, "demo.digest")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert not await paused_in_engine(app, "demo.digest")
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert await paused_in_engine(app, "demo.digest")
        assert "paused" in schedule_row(app, "demo.digest")
        assert "from the monitor" in schedule_row(app, "demo.digest")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert not await paused_in_engine(app, "demo.digest")
        assert "in 39s" in schedule_row(app, "demo.digest")


async def test_read_only_refuses_a_pause_with_a_notification(
    make_scheduled_app: MakeApp,
) -> None:
    app = make_scheduled_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert "p" not in {
            key for key, active in app.screen.active_bindings.items() if active.binding.show
        }
        assert "p:" not in str(schedules_screen(app).schedules.border_subtitle)
        select_schedule(app, "demo.digest")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, SchedulesScreen)
        assert not await paused_in_engine(app, "demo.digest")
        assert any("read-only" in n.message for n in app._notifications)


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


async def test_t_is_in_the_footer_the_help_and_the_command_palette(make_app: MakeApp) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    from jobdeck.tui.screens.help import KEYS

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = app.screen.active_bindings["t"]
        assert shown.binding.show and shown.binding.description == "Schedules"
        assert "t" in {key for key, _ in KEYS}
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(OptionList)
        titles = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(title.startswith("Schedules\n") for title in titles)


async def test_a_storage_error_while_reading_schedules_is_one_notification(
    make_scheduled_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck.core import StorageError

    app = make_scheduled_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

        async def broken() -> None:
            raise StorageError("the database is locked.")

        monkeypatch.setattr(app.engine, "schedules", broken)
        for _ in range(3):
            schedules_screen(app).refresh_data()
            await settle(pilot)
        assert [n.message for n in app._notifications].count("the database is locked.") == 1
        assert schedules_screen(app).schedules.table.keys == ["demo.digest", FLAKY_SCHEDULE]
