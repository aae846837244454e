"""The fault dialog: fail the next attempt of this job (or of every job of a kind), retryable or
terminal, for a reason the operator writes. The failure is tagged injected."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select

from jobdeck.core import Job
from jobdeck.tui.operator import FaultRequest
from jobdeck.tui.widgets.cells import short_id


class FaultScreen(ModalScreen[FaultRequest | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, job: Job | None, kinds: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self.job = job
        self.kinds = kinds

    def compose(self) -> ComposeResult:
        job = self.job
        can_target_job = job is not None and job.live
        with Vertical(classes="dialog", id="fault-dialog") as dialog:
            dialog.border_title = "Force a failure"
            with VerticalScroll(id="fault-form", can_focus=False):
                yield Label("Fail the next attempt of")
                with RadioSet(id="fault-target"):
                    if job is not None:
                        label = f"job {short_id(job.id)} ({job.kind})"
                        if not job.live:
                            label += f": already {job.status.value}"
                        yield RadioButton(label, value=can_target_job, disabled=not can_target_job)
                    yield RadioButton("every job of the kind", value=not can_target_job)
                yield Select(
                    [(k, k) for k in self.kinds],
                    value=job.kind if job is not None else self.kinds[0],
                    allow_blank=False,
                    id="fault-kind",
                )
                yield Label("as a")
                with RadioSet(id="fault-type"):
                    yield RadioButton("terminal failure (not retried)", value=True)
                    yield RadioButton("retryable failure (retried while attempts remain)")
                yield Label("because")
                yield Input(placeholder="failure injected by an operator", id="fault-reason")
            # Docked below the form (see jobdeck.tcss): a short terminal scrolls the form, never
            # the buttons.
            with Horizontal(classes="buttons"):
                yield Button("Arm fault", id="arm", variant="error")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#fault-reason", Input).focus()

    def request(self) -> FaultRequest:
        target = self.query_one("#fault-target", RadioSet)
        on_job = self.job is not None and self.job.live and target.pressed_index == 0
        kind = self.query_one("#fault-kind", Select).value
        retryable = self.query_one("#fault-type", RadioSet).pressed_index == 1
        reason = self.query_one("#fault-reason", Input).value.strip()
        return FaultRequest(
            job_id=self.job.id if on_job and self.job is not None else None,
            kind=None if on_job else str(kind),
            retryable=retryable,
            reason=reason or "failure injected by an operator",
        )

    @on(Input.Submitted, "#fault-reason")
    @on(Button.Pressed, "#arm")
    def _arm(self) -> None:
        self.dismiss(self.request())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
