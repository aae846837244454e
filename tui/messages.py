"""The monitor's messages: widgets report what the user meant; screens decide what to do."""

from __future__ import annotations

from textual.message import Message

from jobdeck.core.contract import Status


class JobHighlighted(Message):
    """The cursor of a pane moved onto a job (or the pane emptied: job_id is None)."""

    def __init__(self, status: Status, job_id: str | None) -> None:
        super().__init__()
        self.status = status
        self.job_id = job_id


class JobChosen(Message):
    """The user pressed Enter on a job: open its detail."""

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id


class GroupChosen(Message):
    """The user pressed Enter on a failure group: show the jobs with this reason code."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


class ScheduleHighlighted(Message):
    """The cursor of the Schedules view moved onto a schedule (None: the list is empty)."""

    def __init__(self, name: str | None) -> None:
        super().__init__()
        self.name = name


class ScheduleChosen(Message):
    """The user pressed Enter on a schedule: show the jobs it made."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class FilterChanged(Message):
    """The filter text changed; an empty string clears it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class FilterDone(Message):
    """The user left the filter bar (Enter keeps the filter, Escape clears it)."""


class WorkerChosen(Message):
    """The user pressed Enter on a worker: filter the panes to its jobs."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class KindChosen(Message):
    """The user pressed Enter on a kind: show its run times and throughput over time."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
