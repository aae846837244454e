"""The monitor's controls: x cancels the selected job after a dialog that fits 80×24, p pauses
and resumes the selected job's kind after a confirm; the header lists paused kinds and the
Queued pane marks their rows; the detail shows the cancel as the job's one reason."""

from __future__ import annotations

from conftest import MakeApp, settle
from monitor_scenario import DENIED_MISSING_ID, QUEUED_CHARGE, QUEUED_ECHO, RUNNING_SLEEP
from test_actions import plain
from test_monitor import main_screen, pane, row_text, select
from textual.geometry import Region
from textual.widgets import Button, Input

from jobdeck.core import Category, Status
from jobdeck.tui.screens.cancel import CancelScreen
from jobdeck.tui.screens.confirm import ConfirmScreen
from jobdeck.tui.screens.detail import DetailScreen
from jobdeck.tui.widgets.job_pane import PAUSED_MARK
from jobdeck.tui.widgets.reason_view import ReasonView


async def test_x_cancels_a_queued_job_with_the_operators_reason(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        select(app, Status.QUEUED, QUEUED_ECHO)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CancelScreen)
        screen = Region(0, 0, *app.screen.size)
        box = dialog.query_one("#cancel-dialog").content_region
        for button in dialog.query(Button):
            assert screen.contains_region(button.region), button.id
            assert box.contains_region(button.region), button.id
        dialog.query_one("#cancel-reason", Input).value = "sent by mistake"
        button = dialog.query_one("#cancel-job", Button)
        await pilot.click(button, offset=(button.region.width // 2, button.region.height // 2))
        await settle(pilot)
        assert app.screen is not dialog
        job = await app.engine.get(QUEUED_ECHO)
        assert job.status is Status.FAILED and job.reason is not None
        assert job.reason.category is Category.CANCELLED
        assert job.reason.evidence["reason"] == "sent by mistake"
        # The detail shows the cancel as the job's one reason.
        await app.push_screen(DetailScreen(QUEUED_ECHO))
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        shown = plain(app.screen.query_one(ReasonView))
        assert "cancelled" in shown and "sent by mistake" in shown


async def test_escape_keeps_the_job(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.RUNNING, RUNNING_SLEEP)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, CancelScreen)
        assert "running job" in plain(app.screen.query_one("#cancel-question"))
        await pilot.press("escape")
        await settle(pilot)
        assert (await app.engine.get(RUNNING_SLEEP)).status is Status.RUNNING
        assert await app.engine.store.cancel_requests([RUNNING_SLEEP]) == []


async def test_x_on_a_running_job_asks_its_worker_to_stop(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.RUNNING, RUNNING_SLEEP)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")  # the reason field submits the dialog
        await settle(pilot)
        (request,) = await app.engine.store.cancel_requests([RUNNING_SLEEP])
        assert request.reason is None


async def test_x_on_a_finished_job_or_a_failure_group_opens_no_dialog(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.FAILED, DENIED_MISSING_ID)
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, CancelScreen)
        await pilot.press("g")  # the Failed pane groups by reason
        await settle(pilot)
        assert main_screen(app).check_action("cancel_job", ()) is None  # shown disabled
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, CancelScreen)
        assert await app.engine.actions() == []


async def test_x_and_p_are_not_offered_read_only(make_app: MakeApp) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert main_screen(app).check_action("cancel_job", ()) is False
        assert main_screen(app).check_action("pause_kind", ()) is False


async def test_p_pauses_and_resumes_the_selected_jobs_kind(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.QUEUED, QUEUED_CHARGE)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Pause demo.charge?" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert [p.kind for p in await app.engine.paused()] == ["demo.charge"]
        main_screen(app).reload()
        await settle(pilot)
        header = str(main_screen(app).query_one("#status-bar").render())
        assert "paused: demo.charge" in header
        assert row_text(app, Status.QUEUED, QUEUED_CHARGE).startswith(
            f"{QUEUED_CHARGE[-6:]} {PAUSED_MARK}demo.charge"
        )
        assert PAUSED_MARK not in row_text(app, Status.QUEUED, QUEUED_ECHO)
        select(app, Status.QUEUED, QUEUED_CHARGE)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Resume demo.charge?" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert await app.engine.paused() == []
        await settle(pilot)
        assert PAUSED_MARK not in row_text(app, Status.QUEUED, QUEUED_CHARGE)
        assert "paused" not in str(main_screen(app).query_one("#status-bar").render())
        assert pane(app, Status.QUEUED).selected_id == QUEUED_CHARGE


async def test_the_footer_and_palette_list_cancel_and_pause(make_app: MakeApp) -> None:
    from jobdeck.tui.commands import MAIN
    from jobdeck.tui.screens.help import KEYS

    assert {"cancel_job", "pause_kind"} <= {action for _, _, action, _ in MAIN}
    assert {"x", "p"} <= {key for key, _ in KEYS}
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        from textual.widgets._footer import FooterKey

        screen = Region(0, 0, *app.screen.size)
        shown = {k.key: k for k in app.screen.query(FooterKey)}
        assert {"x", "p", "q", "question_mark"} <= set(shown)
        for key in ("x", "p", "q", "question_mark"):  # every key fits at 80 columns
            assert screen.contains_region(shown[key].region), key


async def test_x_in_the_detail_cancels_that_job(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.push_screen(DetailScreen(QUEUED_CHARGE))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, CancelScreen)
        app.screen.query_one("#cancel-reason", Input).value = "from the detail"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "from the detail" in plain(app.screen.query_one(ReasonView))
        await pilot.press("x")  # now failed: no dialog
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
