"""The main screen: the status line, the throughput strip, four live panes, the filter bar and
the footer.

Each tick asks the feed what changed and hands the answer to the panes; the keys here turn the
selected job into operator actions. The first data is read before the screen is first drawn, so
the first paint already shows it; the filter bar is mounted, and the dialogs and the detail
screen imported, when first wanted.
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

from jobdeck.core import Job, JobdeckError, Status, StoreUnavailable
from jobdeck.tui.feed import PANE_ORDER, Feed, PaneQuery, Snapshot
from jobdeck.tui.messages import FilterChanged, FilterDone, GroupChosen, JobChosen
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.cells import short_id
from jobdeck.tui.widgets.filter_bar import FilterBar
from jobdeck.tui.widgets.job_pane import JobPane
from jobdeck.tui.widgets.status_bar import StatusBar
from jobdeck.tui.widgets.throughput_strip import ThroughputStrip

if TYPE_CHECKING:
    from jobdeck.tui.app import JobdeckApp
    from jobdeck.tui.operator import FaultRequest

WRITES = {"force_fault", "rerun", "submit", "cancel_job", "pause_kind"}
WIDE, NARROW = 150, 70
# Below this width the footer drops its "^p palette" corner, so every key, Quit and Help
# included, fits at 80 columns; ctrl+p still opens the palette and `?` says so.
FULL_FOOTER = 100
# From this many columns the footer lists w and k too (with ^p palette, 119 cells); below, the
# keys answer unlisted, so Quit and Help keep their place.
SYSTEM_KEYS = 120
# From this many rows the throughput strip takes two lines (twice the steps a bar); below, one.
TALL = 40


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_detail", "Detail"),
        Binding("f", "force_fault", "Fault"),
        Binding("r", "rerun", "Rerun"),
        Binding("x", "cancel_job", "Cancel"),
        Binding("p", "pause_kind", "Pause"),
        Binding("s", "submit", "Submit"),
        Binding("slash", "filter", "Filter"),
        # Left out of the footer so that every other key, Quit and Help included, fits at 80
        # columns; `?` and the palette list them.
        Binding("g", "group", "Group", show=False),
        Binding("e", "export", "Export", show=False),
        Binding("t", "schedules", "Schedules"),
        # In the footer from SYSTEM_KEYS columns up; below, the same keys answer unlisted
        # (`?` and the palette list them), so a narrower footer keeps Quit and Help.
        Binding("w", "workers", "Workers"),
        Binding("k", "kinds", "Kinds"),
        Binding("w", "workers_unlisted", "Workers", show=False),
        Binding("k", "kinds_unlisted", "Kinds", show=False),
        # The Running pane's subtitle says it while the panes are filtered by a worker.
        Binding("escape", "clear_worker", "All workers", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.feed = Feed(self.jobdeck.engine)
        self._busy = False
        self._again = False
        self._filter: FilterBar | None = None  # mounted when first wanted
        self._panes = {status: JobPane(status) for status in PANE_ORDER}
        self._status_bar = StatusBar(self.jobdeck.db_label, mode=self.jobdeck.mode_label)
        self._strip = ThroughputStrip(id="throughput")
        self._last_error = ""
        self._pane = Status.QUEUED
        self.paused: tuple[str, ...] = ()  # the paused kinds, as of the last poll

    @property
    def jobdeck(self) -> JobdeckApp:
        return cast("JobdeckApp", self.app)

    def compose(self) -> ComposeResult:
        self._fit(self.app.size.width, self.app.size.height)  # before the first layout
        yield self._status_bar
        yield self._strip
        with Container(id="panes"):
            yield from self._panes.values()
        full = self.app.size.width >= FULL_FOOTER
        yield Footer(show_command_palette=full, compact=not full)

    async def on_mount(self) -> None:
        self.pane(Status.QUEUED).focus_pane()
        # Awaited here, while the app holds its first paint, so that paint shows the data.
        await self._poll()
        if self.jobdeck.tick:
            self.set_interval(self.jobdeck.tick, self._tick)

    # -- data ----------------------------------------------------------------------------------
    def pane(self, status: Status) -> JobPane:
        return self._panes[status]

    def _tick(self) -> None:
        if not self._busy:  # a tick that finds the last poll still under way leaves it be
            self.refresh_data()

    @work(group="feed")
    async def refresh_data(self) -> None:
        """Poll the feed; asked while a poll is under way, poll once more when it ends (an
        action's change or a new filter is never left unread)."""
        await self._poll()

    async def _poll(self) -> None:
        if self._busy:
            self._again = True
            return
        self._busy = True
        try:
            self._again = True
            while self._again:
                self._again = False
                await self._poll_once()
        finally:
            self._busy = False

    async def _poll_once(self) -> None:
        # Before the first layout a pane's height is unknown: ask for a screenful, which
        # covers any pane; the table shows what fits.
        queries = {
            pane.status: PaneQuery(pane.visible_rows or self.app.size.height, pane.newest_first)
            for pane in self._panes.values()
        }
        try:
            snapshot = await self.feed.poll(queries)
        except StoreUnavailable:
            # A restart or a dropped connection: said on the status line until a read works
            # again; the ticks go on, so it clears by itself.
            self._status_bar.set_unreachable(True)
            return
        except JobdeckError as err:
            if str(err) != self._last_error:  # one notification per distinct trouble
                self._last_error = str(err)
                self.notify(str(err), severity="error", title="jobdeck")
            return
        self._last_error = ""
        self._status_bar.set_unreachable(False)
        self.show(snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self._status_bar.show(snapshot.workers, snapshot.rate, snapshot.paused, snapshot.limits)
        self._strip.show(snapshot.throughput)
        self.paused = snapshot.paused
        self.pane(Status.QUEUED).set_paused(snapshot.paused)
        worker = self.feed.worker
        for status in PANE_ORDER:
            pane = self.pane(status)
            if worker is None:
                pane.set_count(snapshot.counts.get(status, 0), self.feed.text)
            else:
                mine = snapshot.worker_running if status is Status.RUNNING else 0
                pane.set_count(mine, self.feed.text, note=self._worker_label(status))
            if status in snapshot.pages:
                pane.show(snapshot.pages[status], snapshot.now)
            else:
                pane.tick(snapshot.now)
        groups = self.pane(Status.FAILED).groups
        if snapshot.groups is not None and groups is not None:
            groups.show(snapshot.groups)

    def reload(self) -> None:
        """Read every pane again on the next poll, and poll now."""
        self.feed.invalidate()
        self.refresh_data()

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width >= WIDE, "-wide")
        self.set_class(width < NARROW, "-narrow")
        self.set_class(height >= TALL, "-tall")
        if self.is_mounted:
            self.refresh_bindings()  # w and k join the footer from SYSTEM_KEYS columns
        for footer in self.query(Footer):
            footer.show_command_palette = width >= FULL_FOOTER
            footer.compact = width < FULL_FOOTER

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width, event.size.height)
        # Page sizes follow the panes' heights, known once this size is laid out.
        self.call_after_refresh(self._fill)

    def _fill(self) -> None:
        """Reload when a pane grew taller than the page it holds."""
        if any(pane.needs_more for pane in self._panes.values()):
            self.reload()

    # -- selection -----------------------------------------------------------------------------
    def on_descendant_focus(self, event: DescendantFocus) -> None:
        node: DOMNode | None = event.widget
        while node is not None and not isinstance(node, JobPane):
            node = node.parent
        if node is not None:
            self._pane = node.status
            self.refresh_bindings()  # cancel is not offered on the failure groups

    def _selected_code(self) -> str | None:
        """The reason code under the cursor of the Failed pane's group view."""
        groups = self.pane(Status.FAILED).groups
        return None if groups is None else groups.selected_code

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
        if action in WRITES and self.jobdeck.mode.read_only:
            return False
        if action in ("workers", "kinds"):
            return self.app.size.width >= SYSTEM_KEYS
        if action in ("workers_unlisted", "kinds_unlisted"):
            return self.app.size.width < SYSTEM_KEYS
        if action == "clear_worker":
            return self.feed.worker is not None
        if action == "cancel_job" and self.current_pane().grouped:
            return None  # shown disabled: a group is many jobs, cancel takes one
        return True

    def action_open_detail(self) -> None:
        pane = self.current_pane()
        if pane.grouped:
            code = self._selected_code()
            if code is not None:
                self.post_message(GroupChosen(code))
            return
        job = self._need_job()
        if job is not None:
            self._open_detail(job.id)

    @on(JobChosen)
    def _job_chosen(self, event: JobChosen) -> None:
        self._open_detail(event.job_id)

    def _open_detail(self, job_id: str) -> None:
        from jobdeck.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(job_id))

    def action_force_fault(self) -> None:
        from jobdeck.tui.screens.fault import FaultScreen

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
            self._open_detail(rerun.id)

    def _confirm_retry_group(self) -> None:
        from jobdeck.tui.screens.confirm import ConfirmScreen

        code = self._selected_code()
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

    def action_cancel_job(self) -> None:
        from jobdeck.tui.screens.cancel import CancelScreen

        if self.jobdeck.operator.refuse_write():
            return
        if self.current_pane().grouped:
            self.notify("Cancel takes one job: open the group (enter) first.", severity="warning")
            return
        job = self._need_job()
        if job is None:
            return
        if job.status.finished:
            self.notify(
                f"Job {short_id(job.id)} is already {job.status.value}; only a queued or running "
                "job can be cancelled.",
                severity="warning",
            )
            return

        def answered(reason: str | None) -> None:
            if reason is not None and job is not None:
                self._cancel(job, reason)

        self.app.push_screen(CancelScreen(job), answered)

    @work
    async def _cancel(self, job: Job, reason: str) -> None:
        if await self.jobdeck.operator.cancel(job, reason) is not None:
            self.refresh_data()

    def action_pause_kind(self) -> None:
        from jobdeck.tui.screens.confirm import ConfirmScreen

        if self.jobdeck.operator.refuse_write():
            return
        job = self._need_job()
        if job is None:
            return
        kind = job.kind
        resume = kind in self.paused
        question = (
            f"Resume {kind}? Every worker claims its queued jobs again."
            if resume
            else f"Pause {kind}? No worker claims it until it is resumed; running jobs "
            "finish and queued ones stay queued."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._pause(kind, resume)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work
    async def _pause(self, kind: str, resume: bool) -> None:
        operator = self.jobdeck.operator
        if await (operator.resume(kind) if resume else operator.pause(kind)):
            self.reload()

    def action_submit(self) -> None:
        from jobdeck.tui.screens.submit import SubmitScreen

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

    def action_schedules(self) -> None:
        from jobdeck.tui.screens.schedules import SchedulesScreen

        self.app.push_screen(SchedulesScreen())

    async def filter_bar(self) -> FilterBar:
        """The filter bar, mounted above the footer the first time it is wanted."""
        if self._filter is None:
            self._filter = FilterBar()
            await self.mount(self._filter, before=self.query_one(Footer))
        return self._filter

    async def action_filter(self) -> None:
        bar = await self.filter_bar()
        bar.add_class("-active")
        bar.focus()

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self.feed.text = event.text
        self.reload()

    @on(FilterDone)
    async def _filter_done(self) -> None:
        bar = await self.filter_bar()
        bar.set_class(bool(bar.value.strip()), "-active")
        self.current_pane().focus_pane()

    async def action_group(self) -> None:
        failed = self.pane(Status.FAILED)
        await failed.show_groups(not failed.grouped)
        self.feed.groups_wanted = failed.grouped
        self.refresh_bindings()
        self.reload()

    @on(GroupChosen)
    async def _group_chosen(self, event: GroupChosen) -> None:
        failed = self.pane(Status.FAILED)
        failed.grouped = False
        self.feed.groups_wanted = False
        bar = await self.filter_bar()
        bar.value = event.code  # posts FilterChanged, which reloads
        bar.add_class("-active")
        failed.focus_pane()

    # -- the system views ------------------------------------------------------------------------
    # Three names an action: the footer's key (wide), the same key unlisted (narrow), and the
    # palette's entry, which no width turns off.
    def action_workers_view(self) -> None:
        from jobdeck.tui.screens.workers import WorkersScreen

        self.app.push_screen(WorkersScreen())

    def action_kinds_view(self) -> None:
        from jobdeck.tui.screens.kinds import KindsScreen

        self.app.push_screen(KindsScreen())

    def action_workers(self) -> None:
        self.action_workers_view()

    def action_kinds(self) -> None:
        self.action_kinds_view()

    def action_workers_unlisted(self) -> None:
        self.action_workers_view()

    def action_kinds_unlisted(self) -> None:
        self.action_kinds_view()

    def _worker_label(self, status: Status) -> str:
        """A pane's subtitle while the panes are filtered by a worker: the chip that says so."""
        name = cells.printable(self.feed.worker or "")
        if status is Status.RUNNING:
            return f"worker {name} · esc: all"
        return f"worker {name}: running only"

    def filter_worker(self, name: str | None) -> None:
        """Show only the running jobs whose lease `name` holds (None: every job again)."""
        self.feed.worker = name
        self.refresh_bindings()
        self.reload()
        if name is not None:
            self.pane(Status.RUNNING).focus_pane()
            self.notify(
                f"Running jobs of worker {cells.printable(name)}; esc shows every job again.",
                title="Filtered",
            )

    def action_clear_worker(self) -> None:
        self.filter_worker(None)
