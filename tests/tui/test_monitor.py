"""The main screen: panes, live refresh by cursor, filter, group view, modes and terminal sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeApp, settle
from monitor_scenario import (
    DENIED_MISSING_ID,
    FLAKY_DONE,
    INJECTED,
    QUEUED_ECHO,
    Clock,
    Ids,
    finish_all,
)

from jobdeck.core import Status
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.confirm import ConfirmScreen
from jobdeck.tui.screens.main import MainScreen
from jobdeck.tui.widgets.failure_groups import FailureGroups
from jobdeck.tui.widgets.job_pane import JobPane

Scene = tuple[Path, Clock, Ids]


def main_screen(app: JobdeckApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


def pane(app: JobdeckApp, status: Status) -> JobPane:
    return main_screen(app).pane(status)


def row_ids(app: JobdeckApp, status: Status) -> list[str]:
    return pane(app, status).table.keys


def row_text(app: JobdeckApp, status: Status, job_id: str) -> str:
    return " ".join(str(cell) for cell in pane(app, status).table.cells(job_id))


def select(app: JobdeckApp, status: Status, job_id: str) -> None:
    p = pane(app, status)
    p.table.focus()
    p.table.move_cursor(row_ids(app, status).index(job_id))


async def test_each_pane_shows_its_count_and_rows(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        titles = {s: str(pane(app, s).border_title) for s in Status}
        assert titles == {
            Status.QUEUED: "Queued 2",
            Status.RUNNING: "Running 1",
            Status.DONE: "Done 5",
            Status.FAILED: "Failed 3",
        }
        assert len(row_ids(app, Status.DONE)) == 5
        assert "missing_id" in row_text(app, Status.FAILED, DENIED_MISSING_ID)
        assert "denied" in row_text(app, Status.FAILED, DENIED_MISSING_ID)
        assert "injected" in row_text(app, Status.FAILED, INJECTED)
        header = str(app.screen.query_one("#status-bar").render())
        assert "jobs.db" in header and "workers 1" in header


async def test_a_tick_reloads_only_after_events_and_keeps_the_cursor_on_its_job(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.DONE, FLAKY_DONE)
        await settle(pilot)
        await app.engine.submit("demo.echo", {"n": 99})
        await finish_all(app.engine, scene[1])
        main_screen(app).refresh_data()
        await settle(pilot)
        assert row_ids(app, Status.DONE)[0] != FLAKY_DONE  # new rows came in above it
        assert pane(app, Status.DONE).selected_id == FLAKY_DONE
        assert str(pane(app, Status.QUEUED).border_title) == "Queued 0"


async def test_filter_matches_kind_and_escape_clears_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"charge")
        await settle(pilot)
        assert len(row_ids(app, Status.FAILED)) == 2
        assert len(row_ids(app, Status.DONE)) == 1
        assert len(row_ids(app, Status.QUEUED)) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert len(row_ids(app, Status.DONE)) == 5


async def test_group_view_counts_reasons_and_retries_a_group(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        groups = app.screen.query_one(FailureGroups)
        assert groups.display and groups.has_focus
        assert sorted(str(key.value) for key in groups.rows) == [
            "amount_over_limit",
            "injected_terminal",
            "missing_id",
        ]
        groups.move_cursor(row=[str(k.value) for k in groups.rows].index("missing_id"))
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        # The rerun is denied by the same gate: the group now holds two jobs.
        assert (await app.engine.store.failure_groups())[0] == ("missing_id", 2)
        assert groups.get_row("missing_id")[1].plain.strip() == "2"


async def test_enter_on_a_group_filters_the_failed_pane_by_its_code(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        groups = app.screen.query_one(FailureGroups)
        groups.move_cursor(row=[str(k.value) for k in groups.rows].index("missing_id"))
        await pilot.press("enter")
        await settle(pilot)
        assert not pane(app, Status.FAILED).grouped
        assert row_ids(app, Status.FAILED) == [DENIED_MISSING_ID]


async def test_export_writes_a_private_markdown_report_and_says_where(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.FAILED, DENIED_MISSING_ID)
        await pilot.press("e")
        await settle(pilot)
        report = tmp_path / f"jobdeck-incident-{DENIED_MISSING_ID}.md"
        assert report.stat().st_mode & 0o777 == 0o600
        text = report.read_text()
        assert text.startswith(f"# Incident report: job {DENIED_MISSING_ID}")
        assert "- code: `missing_id`" in text and "jobdeck --db jobs.db submit demo.charge" in text
        assert any(str(report) in n.message for n in app._notifications)


async def test_read_only_hides_every_write_action(make_app: MakeApp) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        keys = set(app.screen.active_bindings)
        assert {"f", "r", "s"}.isdisjoint(keys)
        assert {"slash", "g", "e", "q"} <= keys
        assert "read-only" in str(app.screen.query_one("#status-bar").render())
        await pilot.press("s", "f", "r")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert (await app.engine.counts())[Status.QUEUED] == 2


async def test_without_allow_faults_force_and_rerun_are_refused(make_app: MakeApp) -> None:
    app = make_app(allow_faults=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.QUEUED, QUEUED_ECHO)
        await pilot.press("f", "r")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert await app.engine.store.faults() == []
        assert (await app.engine.counts())[Status.QUEUED] == 2
        messages = [n.message for n in app._notifications]
        assert len(messages) == 2 and all("--allow-faults" in m for m in messages)


async def test_help_lists_every_action_key(make_app: MakeApp) -> None:
    from jobdeck.tui.screens.help import KEYS, HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = {key for key, _ in KEYS}
        assert {"f", "r", "s", "/", "g", "e", "q", "?", "enter", "ctrl+p"} <= listed
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_command_palette_lists_every_action(make_app: MakeApp) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(OptionList)
        titles = " ".join(
            str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
        )
        for title in (
            "Open job detail",
            "Force a failure",
            "Rerun job",
            "Submit a job",
            "Filter jobs",
            "Group failures by reason",
            "Export incident report",
            "Help",
            "Quit",
        ):
            assert title in titles


@pytest.mark.parametrize("size", [(80, 24), (200, 50), (60, 40)])
async def test_every_pane_is_visible_at_any_terminal_size(
    make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for status in Status:
            region = pane(app, status).region
            assert region.width >= 20 and region.height >= 4, (status, region)
        assert "denied" in row_text(app, Status.FAILED, DENIED_MISSING_ID)


async def test_no_color_keeps_every_category_readable(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.no_color
        assert "denied" in row_text(app, Status.FAILED, DENIED_MISSING_ID)
        assert "injected" in row_text(app, Status.FAILED, INJECTED)
