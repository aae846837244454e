"""The Schedules view (`t` on the main screen): every periodic schedule with its next run counting
down, its last run and how it went, and whether it is paused. `p` pauses or resumes the selected
schedule after a confirm; Enter lists the jobs it made, and Enter on one of those opens its
detail.

Each tick reads through the engine what is on show (the schedules, or one schedule's newest
jobs: a few rows found by primary key); the only writes are `Engine.pause_schedule` and
`Engine.resume_schedule`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from jobdeck.core.engine import ScheduleView
from jobdeck.tui.messages import JobChosen, ScheduleChosen, ScheduleHighlighted
from jobdeck.tui.screens.live import LiveScreen
from jobdeck.tui.widgets.schedule_about import ScheduleAbout
from jobdeck.tui.widgets.schedule_jobs import ScheduleJobs
from jobdeck.tui.widgets.schedule_list import ScheduleList

if TYPE_CHECKING:
    from jobdeck.tui.app import JobdeckApp

# What a pause from here records as its reason, so `jobdeck schedules` tells who paused it.
PAUSE_REASON = "from the monitor"


def title_line(app: JobdeckApp, what: str) -> Text:
    """The top line of a schedules screen, in the main screen's status line's words."""
    line = Text()
    line.append(" jobdeck ", style="bold reverse")
    line.append(f"  {app.db_label}", style="bold")
    line.append(f"  {what}")
    if app.mode_label:
        line.append(f"  {app.mode_label}", style="bold")
    return line


class ScheduleScreen(LiveScreen):
    """What both schedule screens add to a live view: Enter on a job opening its detail."""

    @on(JobChosen)
    def _job_chosen(self, event: JobChosen) -> None:
        from jobdeck.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(event.job_id))


class SchedulesScreen(ScheduleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("t", "app.pop_screen", "Back", show=False),
        Binding("enter", "show_jobs", "Jobs", show=False),
        Binding("p", "toggle_pause", "Pause/resume"),
        # Read-only hides the action, as the main screen hides its writes; the key still
        # answers, with the reason, instead of doing nothing.
        Binding("p", "refuse_write", "Pause/resume", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="schedules-screen")
        self.schedules = ScheduleList(can_pause=self.jobdeck.mode.can_write, id="schedules")
        self.about = ScheduleAbout(id="schedule-about")
        self._known = {entry.name for entry in self.jobdeck.engine.registry.schedules()}

    def compose(self) -> ComposeResult:
        yield Static(title_line(self.jobdeck, "schedules"), classes="screen-title")
        yield self.schedules
        yield self.about
        yield Footer()

    async def on_mount(self) -> None:
        self.schedules.table.focus()
        await self.start()

    async def read(self) -> None:
        self.show(await self.jobdeck.engine.schedules())

    def show(self, views: list[ScheduleView]) -> None:
        self.schedules.show(views, self.jobdeck.engine.clock())
        self._show_about()

    def _show_about(self) -> None:
        view = self.schedules.selected
        known = view is not None and view.name in self._known
        self.about.show(view, self.jobdeck.engine.clock(), known=known)

    @on(ScheduleHighlighted)
    def _highlighted(self) -> None:
        self._show_about()

    @on(ScheduleChosen)
    def _chosen(self, event: ScheduleChosen) -> None:
        self.app.push_screen(ScheduleJobsScreen(event.name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        read_only = self.jobdeck.mode.read_only
        if action == "toggle_pause":
            return not read_only
        if action == "refuse_write":
            return read_only
        return True

    def _need_schedule(self) -> ScheduleView | None:
        view = self.schedules.selected
        if view is None:
            self.notify("There is no schedule to select.", severity="warning")
        return view

    def action_show_jobs(self) -> None:
        view = self._need_schedule()
        if view is not None:
            self.app.push_screen(ScheduleJobsScreen(view.name))

    def action_refuse_write(self) -> None:
        self.jobdeck.operator.refuse_write()

    def action_toggle_pause(self) -> None:
        from jobdeck.tui.screens.confirm import ConfirmScreen

        if self.jobdeck.operator.refuse_write():
            return
        view = self._need_schedule()
        if view is None:
            return
        if view.state is None:
            self.notify(
                f"No worker has run schedule {view.name} yet: it can be paused once one has.",
                severity="warning",
            )
            return
        pause = not view.state.paused
        if pause:
            question = f"Pause schedule {view.name}? No worker makes its jobs until it is resumed."
        else:
            question = (
                f"Resume schedule {view.name}? Its ticks count from now on; the ones missed "
                "while it was paused are not made."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._set_paused(view.name, pause)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work
    async def _set_paused(self, name: str, pause: bool) -> None:
        engine, operator = self.jobdeck.engine, self.jobdeck.operator
        if pause:
            state = await operator.attempt(lambda: engine.pause_schedule(name, reason=PAUSE_REASON))
        else:
            state = await operator.attempt(lambda: engine.resume_schedule(name))
        if state is None:
            return
        if state.paused:
            self.notify(f"Schedule {name} is paused for every worker.", title="Paused")
        else:
            self.notify(f"Schedule {name} makes jobs again from its next tick.", title="Resumed")
        await self.load()


class ScheduleJobsScreen(ScheduleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("enter", "open_detail", "Detail", show=False),
    ]

    def __init__(self, schedule: str) -> None:
        super().__init__(classes="schedule-jobs-screen")
        self.schedule = schedule
        self.jobs = ScheduleJobs(schedule, id="schedule-jobs")

    def compose(self) -> ComposeResult:
        yield Static(title_line(self.jobdeck, f"schedule {self.schedule}"), classes="screen-title")
        yield self.jobs
        yield Footer()

    async def on_mount(self) -> None:
        self.jobs.table.focus()
        await self.start()

    async def read(self) -> None:
        # A screenful: the table shows what fits, whatever its height while it is laid out.
        limit = max(1, self.app.size.height)
        jobs = await self.jobdeck.engine.schedule_jobs(self.schedule, limit=limit)
        self.jobs.show(jobs, self.jobdeck.engine.clock())

    def action_open_detail(self) -> None:
        job_id = self.jobs.table.selected_key
        if job_id is None:
            self.notify(f"Schedule {self.schedule} has made no job yet.", severity="warning")
        else:
            self.post_message(JobChosen(job_id))
