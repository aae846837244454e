"""The main screen: the status line, four live panes, the filter bar and the footer.

Each tick asks the feed what changed and hands the answer to the panes; the keys here turn the
selected job into operator actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.dom import DOMNode
from textual.events import DescendantFocus, Resize
from textual.screen import Screen
from textual.widgets import Footer

from jobdeck.core import Job, JobdeckError, Status
from jobdeck.tui.feed import PANE_ORDER, Feed, PaneQuery, Snapshot
from jobdeck.tui.messages import FilterChanged, FilterDone, GroupChosen, JobChosen
from jobdeck.tui.operator import FaultRequest
from jobdeck.tui.screens.confirm import ConfirmScreen
from jobdeck.tui.screens.detail import DetailScreen
from jobdeck.tui.screens.fault import FaultScreen
from jobdeck.tui.screens.submit import SubmitScreen
from jobdeck.tui.widgets.failure_groups import FailureGroups
from jobdeck.tui.widgets.filter_bar import FilterBar
from jobdeck.tui.widgets.job_pane import JobPane
from jobdeck.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from jobdeck.tui.app import JobdeckApp

WRITES = {"force_fault", "rerun", "submit"}
WIDE, NARROW = 150, 70


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_detail", "Detail"),
        Binding("f", "force_fault", "Fault"),
        Binding("r", "rerun", "Rerun"),
        Binding("s", "submit", "Submit"),
        Binding("slash", "filter", "Filter"),
        Binding("g", "group", "Group"),
        Binding("e", "export", "Export"),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.feed = Feed(self.jobdeck.engine)
        self._busy = False
        self._last_error = ""
        self._pane = Status.QUEUED

    @property
    def jobdeck(self) -> JobdeckApp:
        return cast("JobdeckApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusBar(self.jobdeck.db_label, mode=self.jobdeck.mode_label)
        with Container(id="panes"):
            for status in PANE_ORDER:
                yield JobPane(status)
        yield FilterBar()
        yield Footer()

    def on_mount(self) -> None:
        self.pane(Status.QUEUED).focus_pane()
        self.refresh_data()
        if self.jobdeck.tick:
            self.set_interval(self.jobdeck.tick, self.refresh_data)

    # -- data ----------------------------------------------------------------------------------
    def pane(self, status: Status) -> JobPane:
        return self.query_one(f"#pane-{status.value}", JobPane)

    @work(group="feed")
    async def refresh_data(self) -> None:
        """Poll the feed once; a tick that finds the previous one still busy does nothing."""
        if self._busy:
            return
        self._busy = True
        try:
            queries = {
                p.status: PaneQuery(p.visible_rows, p.newest_first) for p in self.query(JobPane)
            }
            snapshot = await self.feed.poll(queries)
        except JobdeckError as err:
            if str(err) != self._last_error:  # one notification per distinct trouble
                self._last_error = str(err)
                self.notify(str(err), severity="error", title="jobdeck")
            return
        finally:
            self._busy = False
        self._last_error = ""
        self.show(snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self.query_one(StatusBar).show(snapshot.workers, snapshot.rate)
        for status in PANE_ORDER:
            pane = self.pane(status)
            pane.set_count(snapshot.counts.get(status, 0), self.feed.text)
            if status in snapshot.pages:
                pane.show(snapshot.pages[status], snapshot.now)
            else:
                pane.tick(snapshot.now)
        if snapshot.groups is not None:
            self.query_one(FailureGroups).show(snapshot.groups)

    def reload(self) -> None:
        """Read every pane again on the next poll, and poll now."""
        self.feed.invalidate()
        self.refresh_data()

    def on_resize(self, event: Resize) -> None:
        width = event.size.width
        self.set_class(width >= WIDE, "-wide")
        self.set_class(width < NARROW, "-narrow")
        # Page sizes follow the panes' heights, known once this size is laid out.
        self.call_after_refresh(self.reload)

    # -- selection -----------------------------------------------------------------------------
    def on_descendant_focus(self, event: DescendantFocus) -> None:
        node: DOMNode | None = event.widget
        while node is not None and not isinstance(node, JobPane):
            node = node.parent
        if node is not None:
            self._pane = node.status

    def current_pane(self) -> JobPane:
        """The pane that has (or last had) the focus."""
        return self.pane(self._pane)

    def selected_job(self) -> Job | None:
        return self.current_pane().selected_job

    def _need_job(self) -> Job | None:
        job = self.selected_job()
        if job is None:
            self.notify("Select a job first.", severity="warning")
        return job

    # -- actions -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in WRITES and self.jobdeck.mode.read_only)

    def action_open_detail(self) -> None:
        pane = self.current_pane()
        if pane.grouped:
            code = self.query_one(FailureGroups).selected_code
            if code is not None:
                self.post_message(GroupChosen(code))
            return
        job = self._need_job()
        if job is not None:
            self.app.push_screen(DetailScreen(job.id))

    @on(JobChosen)
    def _job_chosen(self, event: JobChosen) -> None:
        self.app.push_screen(DetailScreen(event.job_id))

    def action_force_fault(self) -> None:
        operator = self.jobdeck.operator
        if operator.refuse_fault():
            return
        job = self.selected_job()
        kinds = self.jobdeck.engine.registry.names()
        self.app.push_screen(FaultScreen(job, kinds), self._arm)

    async def _arm(self, request: FaultRequest | None) -> None:
        if request is not None:
            await self.jobdeck.operator.arm_fault(request)
            self.refresh_data()

    def action_rerun(self) -> None:
        operator = self.jobdeck.operator
        if operator.refuse_fault():
            return
        if self.pane(Status.FAILED).grouped:
            self._confirm_retry_group()
            return
        job = self._need_job()
        if job is not None:
            self._rerun(job.id)

    @work
    async def _rerun(self, job_id: str) -> None:
        rerun = await self.jobdeck.operator.rerun(job_id)
        if rerun is not None:
            self.refresh_data()
            await self.app.push_screen(DetailScreen(rerun.id))

    def _confirm_retry_group(self) -> None:
        code = self.query_one(FailureGroups).selected_code
        if code is None:
            self.notify("No failure group to retry.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._retry_group(code)

        self.app.push_screen(
            ConfirmScreen(f"Rerun every failed job whose reason is {code}?"), answered
        )

    @work
    async def _retry_group(self, code: str) -> None:
        await self.jobdeck.operator.retry_group(code)
        self.reload()

    def action_submit(self) -> None:
        if self.jobdeck.operator.refuse_write():
            return
        screen = SubmitScreen(self.jobdeck.engine.registry, self.jobdeck.operator.submit)
        self.app.push_screen(screen, self._submitted)

    def _submitted(self, job: Job | None) -> None:
        if job is not None:
            self.refresh_data()

    def action_export(self) -> None:
        job = self._need_job()
        if job is not None:
            self._export(job.id)

    @work
    async def _export(self, job_id: str) -> None:
        await self.jobdeck.operator.export(job_id)

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.add_class("-active")
        bar.focus()

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self.feed.text = event.text
        self.reload()

    @on(FilterDone)
    def _filter_done(self) -> None:
        bar = self.query_one(FilterBar)
        bar.set_class(bool(bar.value.strip()), "-active")
        self.current_pane().focus_pane()

    def action_group(self) -> None:
        failed = self.pane(Status.FAILED)
        failed.grouped = not failed.grouped
        self.feed.groups_wanted = failed.grouped
        failed.focus_pane()
        self.reload()

    @on(GroupChosen)
    def _group_chosen(self, event: GroupChosen) -> None:
        failed = self.pane(Status.FAILED)
        failed.grouped = False
        self.feed.groups_wanted = False
        bar = self.query_one(FilterBar)
        bar.value = event.code  # posts FilterChanged, which reloads
        bar.add_class("-active")
        failed.focus_pane()
