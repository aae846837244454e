"""The cancel dialog: stop one job for a reason the operator may write. A queued job ends failed
at once; a running one is stopped by its worker, which rolls back its completed steps."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from jobdeck.core import Job, Status
from jobdeck.tui.widgets.cells import short_id

QUEUED_TEXT = "It ends failed (reason: cancelled) and never runs."
RUNNING_TEXT = (
    "Its worker stops the handler, undoes the steps it completed (newest first) and records "
    "it failed (reason: cancelled). It never runs again."
)


class CancelScreen(ModalScreen[str | None]):
    """Answers the operator's reason ("" for none), or None to keep the job."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "keep", "Keep the job")]

    def __init__(self, job: Job) -> None:
        super().__init__(classes="dialog-screen")
        self.job = job

    def compose(self) -> ComposeResult:
        job = self.job
        with Vertical(classes="dialog", id="cancel-dialog") as dialog:
            dialog.border_title = "Cancel a job"
            # The form scrolls and the buttons dock below it, as in the fault dialog, so a
            # short terminal never hides them.
            with VerticalScroll(id="cancel-form", can_focus=False):
                yield Static(
                    f"Cancel {job.status.value} job {short_id(job.id)} ({job.kind})?",
                    id="cancel-question",
                )
                yield Static(RUNNING_TEXT if job.status is Status.RUNNING else QUEUED_TEXT)
                yield Label("because (optional, kept in the job's reason)")
                yield Input(placeholder="why this job is stopped", id="cancel-reason")
            with Horizontal(classes="buttons"):
                yield Button("Cancel job", id="cancel-job", variant="error")
                yield Button("Keep it", id="keep")

    def on_mount(self) -> None:
        self.query_one("#cancel-reason", Input).focus()

    @on(Input.Submitted, "#cancel-reason")
    @on(Button.Pressed, "#cancel-job")
    def _cancel(self) -> None:
        self.dismiss(self.query_one("#cancel-reason", Input).value.strip())

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(None)
