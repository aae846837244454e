"""The detail of one job: contract, payload and result, the one reason, the attempt timeline,
the retry decision, and the rerun lineage with verdicts. Reloads each tick while anything shown
is still live."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from jobdeck.core import Job, JobDetail
from jobdeck.tui.operator import FaultRequest
from jobdeck.tui.screens.fault import FaultScreen
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.attempt_timeline import AttemptTimeline
from jobdeck.tui.widgets.contract_view import ContractView
from jobdeck.tui.widgets.lineage_view import LineageView
from jobdeck.tui.widgets.reason_view import ReasonView
from jobdeck.tui.widgets.steps_view import StepsView
from jobdeck.tui.widgets.verdict_view import VerdictView

if TYPE_CHECKING:
    from jobdeck.tui.app import JobdeckApp

NARROW = 100


def still_live(detail: JobDetail) -> bool:
    """Whether anything on the screen can still change."""
    jobs = [detail.job, *(rerun for rerun, _ in detail.reruns)]
    if detail.original is not None:
        jobs.append(detail.original)
    return any(job.live for job in jobs)


class DetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("f", "force_fault", "Fault"),
        Binding("r", "rerun", "Rerun"),
        Binding("x", "cancel_job", "Cancel"),
        Binding("e", "export", "Export"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__(classes="detail-screen")
        self.job_id = job_id
        self.detail: JobDetail | None = None

    @property
    def jobdeck(self) -> JobdeckApp:
        return cast("JobdeckApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with Horizontal(id="detail-body"):
            yield VerticalScroll(id="detail-left")
            yield VerticalScroll(id="detail-right")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        if self.jobdeck.tick:
            self.set_interval(self.jobdeck.tick, self._tick)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        writes = ("force_fault", "rerun", "cancel_job")
        return not (action in writes and self.jobdeck.mode.read_only)

    def _tick(self) -> None:
        if self.detail is None or still_live(self.detail):
            self.load()
        for contract in self.query(ContractView):
            contract.tick(self.jobdeck.engine.clock())

    @work(group="detail", exclusive=True)
    async def load(self) -> None:
        detail = await self.jobdeck.operator.attempt(
            lambda: self.jobdeck.engine.detail(self.job_id)
        )
        if detail is None or detail == self.detail:
            return
        self.detail = detail
        self.job_id = detail.job.id
        await self._draw(detail)

    async def _draw(self, detail: JobDetail) -> None:
        job = detail.job
        now = self.jobdeck.engine.clock()
        title = Text()
        title.append(f" Job {job.id} ", style="bold reverse")
        title.append(f"  {job.kind}  ")
        title.append_text(cells.status(job.status))
        title.append(f"  attempt {job.attempt} of {job.max_attempts}\n")
        title.append(" decision ", style="bold")
        title.append(detail.explanation)
        self.query_one("#detail-title", Static).update(title)
        left: list[Widget] = []
        if detail.original is not None:
            left.append(VerdictView(detail.original, detail.verdict))
        left += [
            ReasonView(job.reason),
            AttemptTimeline(detail.attempts, created_at=job.created_at, now=now),
        ]
        if detail.steps:
            left.append(StepsView(detail.steps, job))
        pruned = job.rerun_of if detail.original is None else None  # retention took it
        left.append(LineageView(detail.original, detail.reruns, pruned))
        await self._replace("#detail-left", left)
        await self._replace("#detail-right", [ContractView(job, now)])

    async def _replace(self, selector: str, widgets: list[Widget]) -> None:
        column = self.query_one(selector, VerticalScroll)
        scroll_y = column.scroll_y
        async with self.batch():
            await column.remove_children()
            await column.mount_all(widgets)
        column.scroll_to(y=scroll_y, animate=False)

    def action_force_fault(self) -> None:
        if self.jobdeck.operator.refuse_fault() or self.detail is None:
            return
        kinds = self.jobdeck.engine.registry.names()
        self.app.push_screen(FaultScreen(self.detail.job, kinds), self._arm)

    async def _arm(self, request: FaultRequest | None) -> None:
        if request is not None:
            await self.jobdeck.operator.arm_fault(request)
            self.load()

    def action_rerun(self) -> None:
        if not self.jobdeck.operator.refuse_fault():
            self._rerun()

    @work
    async def _rerun(self) -> None:
        rerun = await self.jobdeck.operator.rerun(self.job_id)
        if rerun is not None:
            await self.app.push_screen(DetailScreen(rerun.id))

    def action_cancel_job(self) -> None:
        from jobdeck.tui.screens.cancel import CancelScreen

        if self.jobdeck.operator.refuse_write() or self.detail is None:
            return
        job = self.detail.job
        if job.status.finished:
            self.notify(
                f"Job {cells.short_id(job.id)} is already {job.status.value}; only a queued or "
                "running job can be cancelled.",
                severity="warning",
            )
            return

        def answered(reason: str | None) -> None:
            if reason is not None:
                self._cancel(job, reason)

        self.app.push_screen(CancelScreen(job), answered)

    @work
    async def _cancel(self, job: Job, reason: str) -> None:
        if await self.jobdeck.operator.cancel(job, reason) is not None:
            self.load()

    @work
    async def action_export(self) -> None:
        await self.jobdeck.operator.export(self.job_id)
