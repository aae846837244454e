"""What the operator can do from the monitor, each one engine call turned into a notification.

Screens and the command palette call these; none of them writes SQL or sets a status. Every
JobdeckError becomes one error notification, never a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from jobdeck.core import Engine, Job, JobdeckError
from jobdeck.tui.incident import incident_markdown, write_private
from jobdeck.tui.widgets.cells import short_id

T = TypeVar("T")

FAULTS_OFF = (
    "Faults and reruns are off: start the monitor with --allow-faults (or run jobdeck demo)."
)
READ_ONLY = "The monitor is read-only: it was opened with --read-only."


class Notifier(Protocol):
    def notify(self, message: str, *, title: str = ..., severity: Any = ...) -> None: ...


@dataclass(frozen=True)
class Mode:
    """What this monitor may do: read-only hides writes; faults and reruns need allow_faults."""

    allow_faults: bool = False
    read_only: bool = False

    @property
    def can_write(self) -> bool:
        return not self.read_only

    @property
    def can_fault(self) -> bool:
        return self.allow_faults and not self.read_only


@dataclass(frozen=True)
class FaultRequest:
    """What the fault dialog asks for: a job or a kind, retryable or terminal, and a reason."""

    job_id: str | None
    kind: str | None
    retryable: bool
    reason: str
    times: int = 1


class Operator:
    def __init__(
        self, engine: Engine, mode: Mode, notifier: Notifier, *, db: str, export_dir: Path
    ) -> None:
        self.engine = engine
        self.mode = mode
        self.notifier = notifier
        self.db = db
        self.export_dir = export_dir

    def refuse_fault(self) -> bool:
        """True (after telling the operator why) when faults and reruns are off."""
        if self.mode.can_fault:
            return False
        self.notifier.notify(
            READ_ONLY if self.mode.read_only else FAULTS_OFF, severity="warning", title="Refused"
        )
        return True

    def refuse_write(self) -> bool:
        if self.mode.can_write:
            return False
        self.notifier.notify(READ_ONLY, severity="warning", title="Refused")
        return True

    async def attempt(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """Run one engine call; a JobdeckError becomes an error notification and None."""
        try:
            return await call()
        except JobdeckError as err:
            self.notifier.notify(str(err), severity="error", title="jobdeck")
            return None

    async def submit(self, kind: str, payload: object) -> Job:
        """Submit for the submit dialog, which shows a JobdeckError inline (so this raises)."""
        job = await self.engine.submit(kind, payload)
        if job.reason is not None:
            self.notifier.notify(
                f"Job {short_id(job.id)} was denied: {job.reason.message}",
                severity="warning",
                title=job.reason.code,
            )
        else:
            self.notifier.notify(f"Submitted {job.kind} job {short_id(job.id)}.", title="Submitted")
        return job

    async def arm_fault(self, request: FaultRequest) -> None:
        if self.refuse_fault():
            return
        fault = await self.attempt(
            lambda: self.engine.arm_fault(
                job_id=request.job_id,
                kind=request.kind,
                retryable=request.retryable,
                times=request.times,
                reason=request.reason,
            )
        )
        if fault is None:
            return
        target = f"job {short_id(request.job_id)}" if request.job_id else f"kind {request.kind}"
        how = "retryable" if request.retryable else "terminal"
        self.notifier.notify(
            f"The next attempt of {target} fails ({how}, injected): {fault.reason}",
            title="Fault armed",
        )

    async def rerun(self, job_id: str) -> Job | None:
        if self.refuse_fault():
            return None
        job = await self.attempt(lambda: self.engine.rerun(job_id))
        if job is not None:
            self.notifier.notify(
                f"Rerun {short_id(job.id)} of {short_id(job_id)} submitted; the verdict shows "
                "when both have finished.",
                title="Rerun",
            )
        return job

    async def retry_group(self, code: str) -> None:
        if self.refuse_fault():
            return
        jobs = await self.attempt(lambda: self.engine.retry_group(code))
        if jobs is not None:
            self.notifier.notify(f"Reran {len(jobs)} jobs that failed with {code}.", title="Retry")

    async def cancel(self, job: Job, reason: str) -> Job | None:
        """Cancel one job (the cancel dialog's answer), telling the operator what happens."""
        if self.refuse_write():
            return None
        after = await self.attempt(lambda: self.engine.cancel(job.id, reason=reason or None))
        if after is None:
            return None
        if after.status.finished:
            message = f"Job {short_id(job.id)} cancelled; it never ran."
        else:
            message = f"Job {short_id(job.id)} is running: its worker stops it and rolls back."
        self.notifier.notify(message, title="Cancelled")
        return after

    async def pause(self, kind: str) -> bool:
        """Pause a kind for every worker; whether it worked."""
        if self.refuse_write():
            return False
        paused = await self.attempt(lambda: self.engine.pause(kind))
        if paused is None:
            return False
        self.notifier.notify(
            f"No worker claims {kind} until it is resumed; running jobs finish.", title="Paused"
        )
        return True

    async def resume(self, kind: str) -> bool:
        """Let workers claim a paused kind again; whether it worked."""
        if self.refuse_write():
            return False
        changed = await self.attempt(lambda: self.engine.resume(kind))
        if changed is None:
            return False
        self.notifier.notify(
            f"Workers claim {kind} again." if changed else f"{kind} was not paused.",
            title="Resumed",
        )
        return True

    async def export(self, job_id: str) -> Path | None:
        detail = await self.attempt(lambda: self.engine.detail(job_id))
        if detail is None:
            return None
        path = self.export_dir / f"jobdeck-incident-{detail.job.id}.md"
        try:
            written: Path = write_private(path, incident_markdown(detail, self.db))
        except OSError as err:
            self.notifier.notify(
                f"Could not write {path}: {err.strerror}.", severity="error", title="Export"
            )
            return None
        self.notifier.notify(f"Wrote the incident report to {written}", title="Exported")
        return written
