"""The durable steps of a job: each step's outcome and memoized result, and how its compensation
went (or that one is still owed), in execution order."""

from __future__ import annotations

import json

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jobdeck.core.contract import CompensationStatus, Job, Step, StepStatus

STEP_STYLE = {StepStatus.DONE: "green", StepStatus.FAILED: "red"}
COMPENSATION_STYLE = {
    CompensationStatus.DONE: "green",
    CompensationStatus.FAILED: "red",
    CompensationStatus.PENDING: "yellow",
}
RESULT_WIDTH = 32


def render_steps(steps: list[Step], job: Job) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    for style in ("bold", "", "", "", ""):
        table.add_column(style=style, no_wrap=True)
    table.add_row(*(Text(h, style="dim") for h in ("step", "status", "try", "undo", "result")))
    for step in steps:
        comp = step.compensation_state(job.status)
        undo = Text("-", style="dim")
        if comp is not None:
            undo = Text(comp.value, style=COMPENSATION_STYLE[comp])
            if step.compensation_attempts:
                undo.append(f" ×{step.compensation_attempts}", style="dim")
        if step.status is StepStatus.FAILED and step.reason is not None:
            detail = Text(step.reason.message, style="red")
        else:
            text = json.dumps(step.result, separators=(",", ":"), ensure_ascii=False)
            detail = Text(text if len(text) <= RESULT_WIDTH else text[: RESULT_WIDTH - 1] + "…")
        table.add_row(
            step.name,
            Text(step.status.value, style=STEP_STYLE[step.status]),
            str(step.attempt),
            undo,
            detail,
        )
    failed = [s for s in steps if s.compensation_reason is not None]
    if not failed:
        return table
    notes = Table.grid()
    notes.add_column()
    notes.add_row(table)
    for step in failed:
        assert step.compensation_reason is not None
        notes.add_row(Text(f"undo {step.name}: {step.compensation_reason.message}", style="red"))
    return notes


class StepsView(Static):
    def __init__(self, steps: list[Step], job: Job) -> None:
        super().__init__(render_steps(steps, job), classes="section")
        self.border_title = f"Steps {len(steps)}"
