"""Operator control: cancel a job, pause and resume a kind, and the trail those actions leave.

The rules here are pure; the verbs (`Control`, a part of `Engine`) hand their results to the
store, whose values (`Action`, `CancelRequest`, `PausedKind`) live in `core.store`. A cancel
adds a category (`cancelled`), never a status: a queued job takes the queued -> failed arrow at
once, a running job gets a cancel request that its worker (or lease recovery, when the worker
died) turns into running -> failed through `transition()` like every other outcome.

The trail: every operator action is one row of an append-only `actions` table (who, what, on
what, why), not an event, because an event belongs to one job and the events table is far too
large to rebuild. Each action row keeps the newest event cursor at the moment it was written, so
`jobdeck events` prints it right after that event: the log and the trail read as one stream.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import socket
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from pydantic import JsonValue

from jobdeck.core.contract import Category, Deny, Job, Reason, Status, transition
from jobdeck.core.errors import InvalidInput, TransitionError
from jobdeck.core.store import Action, CancelRequest, Change, PausedKind

if TYPE_CHECKING:
    from jobdeck.core.registry import Registry
    from jobdeck.core.store import Store

log = logging.getLogger("jobdeck")

MAX_TEXT: Final = 500
MAX_ACTOR: Final = 100


class ActionName(StrEnum):
    """What an operator did."""

    CANCEL = "cancel"
    CANCEL_KIND = "cancel_kind"
    PAUSE = "pause"
    RESUME = "resume"
    SCHEDULE_PAUSE = "schedule_pause"
    SCHEDULE_RESUME = "schedule_resume"
    PRUNE = "prune"


def cancel_reason(*, actor: str, at: float, text: str | None, was_running: bool) -> Reason:
    """The one reason of a cancelled job: who, when, why, and whether its handler had started."""
    where = "while it ran" if was_running else "before it ran"
    why = f": {text}" if text else "."
    evidence: dict[str, JsonValue] = {"by": actor, "at": at, "reason": text, "running": was_running}
    return Reason(
        code="cancelled",
        message=f"Cancelled by {actor} {where}{why}",
        category=Category.CANCELLED,
        evidence=evidence,
    )


def request_reason(request: CancelRequest) -> Reason:
    """The reason a running job ends with when its cancel request is obeyed."""
    return cancel_reason(actor=request.actor, at=request.at, text=request.reason, was_running=True)


def operator_text(text: str | None) -> str | None:
    """An operator's reason: one line of at most 500 characters, or None when empty."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT or any(ord(c) < 32 or c == "\x7f" for c in text):
        raise InvalidInput(f"a reason is one line of at most {MAX_TEXT} characters.")
    return text or None


def actor(by: str | None) -> str:
    """Who acts: `by` when given (one line of at most 100 characters), else user@host."""
    if by is not None:
        name = by.strip()
        if not name or len(name) > MAX_ACTOR or any(ord(c) < 32 or c == "\x7f" for c in name):
            raise InvalidInput(f"--by names who acts in one line of 1 to {MAX_ACTOR} characters.")
        return name
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        user = "unknown"
    return f"{user}@{socket.gethostname()}"[:MAX_ACTOR]


def check_kind_name(kind: str) -> str:
    """A kind name an operator gives (pause, resume, cancel --kind); raises InvalidInput when
    empty or not one line."""
    if not kind or not kind.strip():
        raise InvalidInput("name a kind; an empty name is no kind.")
    if len(kind) > 200 or any(ord(c) < 32 or c == "\x7f" for c in kind):
        raise InvalidInput("a kind name is one line of at most 200 characters.")
    return kind


__all__ = [
    "Action",
    "ActionName",
    "CancelRequest",
    "PausedKind",
    "actor",
    "cancel_reason",
    "check_kind_name",
    "operator_text",
    "request_reason",
]


CANCEL_BATCH: Final = 500
RACE_TRIES: Final = 5


class Control:
    """The operator's verbs, part of `Engine`: cancel, pause, resume, and the trail they leave."""

    store: Store
    registry: Registry
    clock: Callable[[], float]

    submitted: asyncio.Event

    async def get(self, job_id: str) -> Job:  # Engine's: find by id or suffix
        raise NotImplementedError

    async def cancel(self, job_id: str, *, reason: str | None = None, by: str | None = None) -> Job:
        """Cancel one job. A queued job ends failed at once with the reason `cancelled`; a
        running one gets a cancel request its worker obeys (it stops the handler, runs the
        compensations of the completed steps and records failed/cancelled) and is returned as
        it still is. Either way it never runs again and frees its idempotency key.

        Raises NotFound for an unknown id, TransitionError when the job is already done or
        failed, InvalidInput for a reason or `by` that is not one short line."""
        text, who = operator_text(reason), actor(by)
        job = await self.get(job_id)
        for _ in range(RACE_TRIES):  # a claim or a finish won the race: look again
            step = cancel_step(job, who, text, self.clock())
            if isinstance(step, Change):
                if (await self.store.cancel_queued([step], step_action(step, who, text)))[0]:
                    return cancelled(step, job)
            elif (await self.store.request_cancel([step], step_action(step, who, text)))[0]:
                return cancelled(step, job)
            job = await self.store.get(job.id)
        raise kept_changing(job)

    async def cancel_kind(
        self,
        kind: str,
        *,
        statuses: tuple[str, ...] | list[str] = ("queued",),
        reason: str | None = None,
        by: str | None = None,
    ) -> int:
        """Cancel every job of `kind` in `statuses` (queued, running or both) as `cancel` does
        one, a batch per transaction; returns how many were cancelled or asked to stop. The
        action is logged once. Raises InvalidInput for another status or a bad reason."""
        text, who = operator_text(reason), actor(by)
        wanted = _cancellable(statuses)
        check_kind_name(kind)
        total = 0
        if Status.QUEUED in wanted:
            total += await self._cancel_queued_kind(kind, who, text)
        if Status.RUNNING in wanted:
            total += await self._cancel_running_kind(kind, who, text)
        target = f"{kind} ({', '.join(s.value for s in wanted)}: {total})"
        await self.store.record_action(
            Action(self.clock(), who, ActionName.CANCEL_KIND, target, text)
        )
        return total

    async def _cancel_queued_kind(self, kind: str, who: str, text: str | None) -> int:
        total, after = 0, None
        while True:
            page = await self.store.page(
                Status.QUEUED, kind=kind, after=after, limit=CANCEL_BATCH, newest_first=False
            )
            if not page.jobs:
                return total
            now = self.clock()
            changes = [_cancel_queued(job, who, text, now) for job in page.jobs]
            total += sum(await self.store.cancel_queued(changes, None))
            if page.next_after is None:
                return total
            after = page.next_after

    async def _cancel_running_kind(self, kind: str, who: str, text: str | None) -> int:
        total, after = 0, None
        while True:
            page = await self.store.page(
                Status.RUNNING, kind=kind, after=after, limit=CANCEL_BATCH, newest_first=False
            )
            now = self.clock()
            requests = [CancelRequest(j.id, j.attempt, who, now, text) for j in page.jobs]
            if requests:
                total += sum(await self.store.request_cancel(requests, None))
            if page.next_after is None:
                return total
            after = page.next_after

    async def pause(
        self, kind: str, *, reason: str | None = None, by: str | None = None
    ) -> PausedKind:
        """Stop every worker claiming jobs of `kind` (within one poll); running jobs finish,
        queued ones stay queued. Pausing a paused kind keeps the first pause. Raises
        InvalidInput for an empty name or a kind neither registered nor stored."""
        text, who = operator_text(reason), actor(by)
        await self._known_kind(kind)
        now = self.clock()
        action = Action(now, who, ActionName.PAUSE, kind, text)
        await self.store.pause_kind(kind, paused=True, reason=text, action=action)
        found = {p.kind: p for p in await self.store.paused_kinds()}
        return found.get(kind) or PausedKind(kind, who, now, text)

    async def resume(self, kind: str, *, by: str | None = None) -> bool:
        """Let workers claim `kind` again; whether it was paused. Raises InvalidInput for an
        empty name or a kind neither registered, stored nor paused."""
        who = actor(by)
        await self._known_kind(kind)
        action = Action(self.clock(), who, ActionName.RESUME, kind, None)
        changed = await self.store.pause_kind(kind, paused=False, reason=None, action=action)
        if changed:
            self.submitted.set()  # a worker of this process may claim its jobs now
        return changed

    async def paused(self) -> list[PausedKind]:
        """Every paused kind, by name."""
        return await self.store.paused_kinds()

    async def actions(
        self, *, after_id: int = 0, since: int = 0, limit: int = 1000
    ) -> list[Action]:
        """The operator trail after row `after_id`, from event cursor `since` on, oldest first."""
        return await self.store.actions(after_id=after_id, since=since, limit=limit)

    async def record_action(
        self, action: str, target: str, *, reason: str | None = None, by: str | None = None
    ) -> None:
        """Append one row to the operator trail (what the schedule and prune commands log)."""
        await self.store.record_action(Action(self.clock(), actor(by), action, target, reason))

    async def _known_kind(self, kind: str) -> None:
        check_kind_name(kind)
        if kind in self.registry or await self.store.kind_seen(kind):
            return
        known = ", ".join(self.registry.names()) or "none"
        raise InvalidInput(f"no kind {kind!r} is registered or stored (known kinds: {known}).")


def cancel_step(job: Job, who: str, text: str | None, now: float) -> Change | CancelRequest:
    """What cancelling `job` as it is now writes: a queued job's change to failed, or a running
    job's cancel request for its worker. The one rule behind `Engine.cancel` and
    `Client.cancel`; raises TransitionError for a job that already finished."""
    if job.status.finished:
        raise TransitionError(
            f"job {job.id} is already {job.status.value}; only a queued or running job "
            "can be cancelled."
        )
    if job.status is Status.QUEUED:
        return _cancel_queued(job, who, text, now)
    return CancelRequest(job.id, job.attempt, who, now, text)


def step_action(step: Change | CancelRequest, who: str, text: str | None) -> Action:
    """The trail row of one job's cancel."""
    if isinstance(step, Change):
        return Action(step.after.updated_at, who, ActionName.CANCEL, step.after.id, text)
    return Action(step.at, who, ActionName.CANCEL, step.job_id, text)


def cancelled(step: Change | CancelRequest, job: Job) -> Job:
    """The job a cancel answers once its step was stored: the failed job, or the running
    `job` its worker will stop."""
    if isinstance(step, Change):
        log.info("cancelled queued job %s", job.id)
        return step.after
    log.info("asked the worker of job %s to cancel it (by %s)", job.id, step.actor)
    return job


def kept_changing(job: Job) -> TransitionError:
    return TransitionError(f"job {job.id} kept changing while it was being cancelled; try again.")


def _cancel_queued(job: Job, who: str, text: str | None, now: float) -> Change:
    """queued -> failed with the cancel reason: the arrow a denial takes, no new transition."""
    reason = cancel_reason(actor=who, at=now, text=text, was_running=False)
    return Change(job, transition(job, Deny(reason, now)), None, reason)


def _cancellable(statuses: tuple[str, ...] | list[str]) -> list[Status]:
    wanted = []
    for status in statuses:
        if status not in (Status.QUEUED.value, Status.RUNNING.value):
            raise InvalidInput(f"only queued or running jobs can be cancelled, not {status!r}.")
        if Status(status) not in wanted:
            wanted.append(Status(status))
    if not wanted:
        raise InvalidInput("say which statuses to cancel: queued, running or both.")
    return wanted
