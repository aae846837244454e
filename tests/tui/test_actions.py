"""The operator's actions: force a failure, rerun with a verdict, submit, and the job detail."""

from __future__ import annotations

import io
from pathlib import Path

from conftest import MakeApp, settle
from monitor_scenario import (
    CHARGE_DONE,
    DENIED_MISSING_ID,
    INJECTED,
    QUEUED_ECHO,
    RANDOM_DONE,
    Clock,
    Ids,
    finish_all,
)
from rich.console import Console
from test_monitor import main_screen, pane, row_ids, row_text, select
from textual.geometry import Region
from textual.widgets import Button, Input, Select, Static, TextArea

from jobdeck.core import Category, Status
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.detail import DetailScreen
from jobdeck.tui.screens.fault import FaultScreen
from jobdeck.tui.screens.submit import SubmitScreen
from jobdeck.tui.widgets.reason_view import ReasonView
from jobdeck.tui.widgets.verdict_view import VerdictView

Scene = tuple[Path, Clock, Ids]


def detail_screen(app: JobdeckApp) -> DetailScreen:
    assert isinstance(app.screen, DetailScreen)
    return app.screen


def plain(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def text_of(app: JobdeckApp, selector: str) -> str:
    return " ".join(plain(w) for w in app.screen.query(selector).results(Static))


async def test_force_failure_fails_the_job_as_injected_with_the_operators_reason(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.QUEUED, QUEUED_ECHO)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FaultScreen)
        await pilot.press(*"payment api down", "enter")
        await settle(pilot)
        await finish_all(app.engine, scene[1])
        main_screen(app).refresh_data()
        await settle(pilot)
        assert QUEUED_ECHO in row_ids(app, Status.FAILED)
        assert "injected" in row_text(app, Status.FAILED, QUEUED_ECHO)
        job = await app.engine.get(QUEUED_ECHO)
        assert job.reason is not None
        assert job.reason.category is Category.INJECTED
        assert job.reason.message == "payment api down"


async def test_force_failure_on_a_kind_when_the_job_already_finished(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.DONE, CHARGE_DONE)
        await pilot.press("f")
        await settle(pilot)
        fault = app.screen
        assert isinstance(fault, FaultScreen)
        assert fault.query_one("#fault-kind", Select).value == "demo.charge"
        fault.query_one("#fault-reason", Input).value = "bank offline"
        await pilot.click("#arm")
        await settle(pilot)
        (armed,) = await app.engine.store.faults()
        assert (armed.kind, armed.job_id, armed.retryable) == ("demo.charge", None, False)


async def test_the_fault_dialog_fits_80_by_24_and_its_arm_button_arms_the_fault(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        select(app, Status.QUEUED, QUEUED_ECHO)
        await pilot.press("f")
        await settle(pilot)
        fault = app.screen
        assert isinstance(fault, FaultScreen)
        screen = Region(0, 0, *app.screen.size)
        dialog = fault.query_one("#fault-dialog").content_region
        for button in fault.query(Button):
            assert screen.contains_region(button.region), button.id
            assert dialog.contains_region(button.region), button.id
        arm = fault.query_one("#arm", Button)
        await pilot.click(arm, offset=(arm.region.width // 2, arm.region.height // 2))
        await settle(pilot)
        assert app.screen is not fault
        (armed,) = await app.engine.store.faults()
        assert (armed.job_id, armed.kind, armed.retryable) == (QUEUED_ECHO, None, False)


async def test_rerun_of_a_charge_shows_idempotent(make_app: MakeApp, scene: Scene) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.DONE, CHARGE_DONE)
        await pilot.press("r")
        await settle(pilot)
        screen = detail_screen(app)
        assert "pending" in text_of(app, VerdictView.__name__)
        await finish_all(app.engine, scene[1])
        screen.load()
        await settle(pilot)
        verdict = text_of(app, VerdictView.__name__)
        assert "idempotent ✓" in verdict and CHARGE_DONE[-6:] in verdict


async def test_rerun_of_a_random_job_shows_diverged_with_the_diff(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.DONE, RANDOM_DONE)
        await pilot.press("r")
        await settle(pilot)
        await finish_all(app.engine, scene[1])
        detail_screen(app).load()
        await settle(pilot)
        verdict = text_of(app, VerdictView.__name__)
        assert "diverged ✗" in verdict


async def test_a_denied_job_shows_exactly_one_reason(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.FAILED, DENIED_MISSING_ID)
        await pilot.press("enter")
        await settle(pilot)
        detail_screen(app)
        reasons = list(app.screen.query(ReasonView))
        assert len(reasons) == 1
        shown = plain(reasons[0])
        assert shown.count("missing_id") == 2  # the code and the gate, one reason
        assert "A charge needs an id to be idempotent." in shown
        title = text_of(app, "#detail-title")
        assert "denied by the missing_id gate: never run, never retried" in title
        assert "never ran" in text_of(app, "AttemptTimeline")
        await pilot.press("escape")
        assert pane(app, Status.FAILED).selected_id == DENIED_MISSING_ID


async def test_an_injected_failure_detail_shows_its_attempt_and_decision(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select(app, Status.FAILED, INJECTED)
        await pilot.press("enter")
        await settle(pilot)
        title = text_of(app, "#detail-title")
        assert "injected: not retried" in title
        timeline = text_of(app, "AttemptTimeline")
        assert "injected_terminal" in timeline and "disk full, on purpose" in timeline


async def test_bad_json_in_the_submit_form_shows_an_inline_error(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SubmitScreen)
        form.query_one("#payload", TextArea).text = '{"n": 1,'
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.error.startswith("Not valid JSON:")
        assert form.query_one("#submit-error").display
        form.query_one("#payload", TextArea).text = "[1, 2]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.error == "a payload must be a JSON object, not an array."


async def test_submit_stores_a_job_and_the_queued_pane_shows_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SubmitScreen)
        form.query_one("#kind", Select).value = "demo.echo"
        form.query_one("#payload", TextArea).text = '{"n": 42}'
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, type(main_screen(app)))
        assert str(pane(app, Status.QUEUED).border_title) == "Queued 3"


async def test_detail_shows_steps_and_the_compensation_of_a_rolled_back_transfer(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        payload = {"from": "alice", "to": "bob", "amount": 5}
        job = await app.engine.submit("demo.transfer", payload)
        await app.engine.arm_fault(job_id=job.id, at_step="credit", reason="between steps")
        await finish_all(app.engine, scene[1])
        await app.push_screen(DetailScreen(job.id))
        await settle(pilot)
        steps = text_of(app, "StepsView")
        assert "debit" in steps and "credit" in steps
        debit = next(line for line in steps.splitlines() if line.lstrip().startswith("debit"))
        credit = next(line for line in steps.splitlines() if line.lstrip().startswith("credit"))
        assert "done" in debit and "done ×1" in debit  # the debit was compensated, once
        assert "failed" in credit and "between steps" in credit
        assert "between steps" in text_of(app, "ReasonView")  # the one reason stays the cause
