"""The storage interface. The engine talks to a database only through this Protocol; every SQL
statement lives in `jobdeck.storage`, one class per backend.

Every method that writes is one transaction. Every method raises `StorageError` (one sentence)
for database trouble and never leaks a driver exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from jobdeck.core.contract import (
    Attempt,
    CompensationStatus,
    Event,
    Fault,
    Job,
    Outcome,
    Reason,
    Status,
    Step,
)
from jobdeck.core.limits import KindLimits, LimitState
from jobdeck.core.system import RollupRow, WorkerInfo, WorkerState


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job a worker now holds, and the armed fault its attempt consumed, if any."""

    job: Job
    fault: Fault | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One transition to apply: `before` is what the caller last saw (the compare), `after` is the
    output of `transition()` (the set). `outcome`/`reason` close the running attempt, if any.

    `lease_ended_at` is set by lease recovery: the change applies only if the lease still ends
    at that moment, so a heartbeat that renewed it in the meantime wins over the recovery.
    """

    before: Job
    after: Job
    outcome: Outcome | None = None
    reason: Reason | None = None
    lease_ended_at: float | None = None


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """What the database holds about one periodic schedule: what workers last declared for it,
    the newest tick made (or the moment it was first declared), whether it is paused, and the
    job of its newest tick, if that job still exists."""

    name: str
    kind: str
    cron: str
    tz: str
    last_tick: float
    paused: bool
    paused_reason: str | None
    changed_at: float
    last_job: Job | None = None


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a prune deleted (or, in a dry run, would delete): rows of each table."""

    jobs: int = 0
    attempts: int = 0
    steps: int = 0
    events: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(
            self.jobs + other.jobs,
            self.attempts + other.attempts,
            self.steps + other.steps,
            self.events + other.events,
        )


@dataclass(frozen=True, slots=True)
class Record:
    """A finished job with everything stored about it: what an archive line holds."""

    job: Job
    attempts: list[Attempt]
    steps: list[Step]
    events: list[Event]


@dataclass(frozen=True, slots=True)
class Action:
    """One row of the operator trail. `id` and `after_cursor` (the newest event cursor when it
    was written) are set by the store."""

    at: float
    actor: str
    action: str  # a jobdeck.core.control.ActionName; text, so a newer jobdeck's rows read
    target: str
    reason: str | None = None
    id: int = 0
    after_cursor: int = 0


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """An operator asked to stop a running job (attempt `attempt`); its worker obeys."""

    job_id: str
    attempt: int
    actor: str
    at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PausedKind:
    """A kind no worker claims until it is resumed."""

    kind: str
    actor: str
    at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """A keyset page of one pane: rows in id order and the cursor to pass for the next page."""

    jobs: list[Job]
    next_after: str | None


class Store(Protocol):
    """What a backend does for the engine and the monitor."""

    path: str
    read_only: bool

    async def close(self) -> None: ...

    # -- writes --------------------------------------------------------------------------------
    async def insert(self, jobs: Sequence[Job]) -> list[Job]:
        """Store new jobs (queued, or failed by a denial) in one transaction, each with its
        creation event. A job whose idempotency key belongs to a live or done job (and that is not
        a rerun) is not inserted: the existing job is returned in its place. Returns one job per
        input, in input order."""
        ...

    async def claim(
        self, worker: str, kinds: Sequence[str], limit: int, now: float, lease_seconds: float
    ) -> list[Claimed]:
        """Give up to `limit` ready queued jobs of `kinds` to `worker` (queued -> running, attempt
        + 1, lease until now + lease_seconds), with one attempt row and one event each, and consume
        one armed fault per job where one matches. A job goes to exactly one worker."""
        ...

    async def apply(self, changes: Sequence[Change]) -> list[bool]:
        """Apply transitions in one transaction. Each is a compare-and-set on the job's status,
        attempt and lease owner as seen in `before`; one that lost its race is skipped and reported
        False, never applied. Each applied change appends one event and closes its attempt.
        Raises TransitionError for a before -> after pair the transition table does not have."""
        ...

    async def apply_and_claim(
        self,
        changes: Sequence[Change],
        worker: str,
        kinds: Sequence[str],
        limit: int,
        now: float,
        lease_seconds: float,
    ) -> tuple[list[bool], list[Claimed]]:
        """`apply(changes)`, then `claim(...)`, in one transaction: a worker records what it
        finished and takes its next jobs with one commit. Each part keeps its own guarantees."""
        ...

    async def heartbeat(
        self, worker: str, job_ids: Sequence[str], lease_expires_at: float, now: float
    ) -> set[str]:
        """Extend the leases `worker` still holds and that have not ended before `now` (an ended
        lease is lost even before anyone recovers the job); returns the ids it still holds."""
        ...

    async def expired(self, now: float, limit: int) -> list[Job]:
        """Running jobs whose lease ended before `now`, oldest first."""
        ...

    async def arm_fault(self, fault: Fault) -> Fault:
        """Store an armed fault; returns it with its id."""
        ...

    async def touch_worker(self, worker: str, now: float) -> None:
        """Record that `worker` is alive (the monitor counts workers seen recently)."""
        ...

    async def forget_worker(self, worker: str) -> None: ...

    # -- the system ----------------------------------------------------------------------------
    async def register_worker(self, info: WorkerInfo, now: float) -> None:
        """Record a starting worker (host, pid, version, lease, concurrency, kinds), seen at
        `now`; a row of the same name is replaced whole."""
        ...

    async def beat_worker(self, worker: str, now: float, done_5m: int, failed_5m: int) -> bool:
        """A registered worker's heartbeat: seen at `now`, with the jobs it finished and failed
        in its last 5 minutes. False when it has no row (dropped after an hour of silence, or
        never registered): it should register again."""
        ...

    async def fold_rollup(self, now: float) -> bool:
        """Fold rollup buckets past their age into coarser ones (10 s into minutes after 15
        minutes, minutes into ALL_TIME after a day; totals never change) and drop the rows of
        workers silent for over an hour. A read and nothing more when there is nothing to do;
        whether it wrote."""
        ...

    async def workers(self, now: float) -> list[WorkerState]:
        """Registered workers heard from within the hour, by name, each with `running` = its
        jobs running under its lease now."""
        ...

    async def rollup(self, since: float, kind: str | None = None) -> list[RollupRow]:
        """Rollup rows (of `kind`, when given) whose bucket ends after `since`, oldest first;
        the ALL_TIME rows only when `since` <= 0 (then every row)."""
        ...

    async def rollup_sums(
        self, edges: Sequence[float], kind: str | None = None, *, per_kind: bool = True
    ) -> list[RollupRow]:
        """The rollup summed in the database, for readers that need totals over a few spans
        rather than every bucket: for each two consecutive `edges` lo < hi (ascending), one row
        per key (kind, outcome, code) of the buckets that end in (lo, hi], with start lo and
        width hi - lo. Of `kind` only, when given; with `per_kind` False, summed across kinds
        (kind ''). Never the ALL_TIME rows."""
        ...

    async def kind_counts(self) -> dict[str, dict[Status, int]]:
        """Jobs per kind and status (every status present), kinds by name, without scanning
        the jobs table; a kind with no job left is left out."""
        ...

    async def oldest_queued(self) -> dict[str, float]:
        """Per kind with queued jobs: when its longest-waiting queued job became ready (its
        `run_after`: a job scheduled for later is not waiting yet), one index probe a kind."""
        ...

    # -- limits --------------------------------------------------------------------------------
    async def declare_limits(self, worker: str, limits: Sequence[KindLimits], now: float) -> None:
        """Record what `worker` declares for each kind it runs, in one transaction: a kind with a
        limit replaces the stored row (the last worker to start wins), a kind without one
        deletes it. Every claim, by any worker, obeys the stored rows."""
        ...

    async def limits(self, now: float) -> list[LimitState]:
        """Every stored limit by kind, with the kind's running jobs and the claims its rate still
        allows at `now`."""
        ...

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, job_id: str) -> Job:
        """The job with this id; raises NotFound."""
        ...

    async def find(self, prefix: str) -> Job:
        """The one job whose id is, starts with or ends with `prefix` (at least 4 characters);
        raises NotFound, or InvalidInput when the prefix is ambiguous."""
        ...

    async def attempts(self, job_id: str) -> list[Attempt]: ...

    async def reruns(self, job_id: str) -> list[Job]:
        """Jobs whose rerun_of is `job_id`, oldest first."""
        ...

    async def counts(self) -> dict[Status, int]:
        """Jobs per status, without scanning the jobs table."""
        ...

    async def page(
        self,
        status: Status,
        *,
        after: str | None = None,
        limit: int = 50,
        kind: str | None = None,
        text: str | None = None,
        newest_first: bool = True,
    ) -> Page:
        """One keyset page of jobs in `status` (never OFFSET). `text` matches kind, id, reason
        code or payload as a plain substring."""
        ...

    async def failure_groups(self) -> list[tuple[str, int]]:
        """(reason code, count) of failed jobs, largest first."""
        ...

    async def failed_with(self, code: str, limit: int) -> list[Job]: ...

    async def events(self, since: int = 0, limit: int = 500) -> list[Event]:
        """Events with cursor > since, in cursor order."""
        ...

    async def last_cursor(self) -> int: ...

    async def faults(self) -> list[Fault]:
        """Armed faults with attempts left."""
        ...

    async def workers_alive(self, now: float, within: float) -> int:
        """Registered workers not gone at `now` (heard from within two of their lease
        lengths; `within` seconds for a row that does not say its lease)."""
        ...

    # -- durable steps ---------------------------------------------------------------------------
    async def steps(self, job_id: str) -> list[Step]:
        """The job's steps in execution order."""
        ...

    async def record_step(self, job: Job, step: Step) -> bool:
        """Store a step's outcome (replacing an earlier run of the same name) if `job` is still
        running this attempt under the same lease; False if the lease moved on."""
        ...

    async def record_compensation(
        self,
        job: Job,
        name: str,
        status: CompensationStatus,
        attempts: int,
        reason: Reason | None,
        at: float,
    ) -> bool:
        """Store how a step's compensation went and, unless pending, log it as an event; only
        while `job` still runs this attempt under the same lease."""
        ...

    async def insert_rerun(self, job: Job, steps: Sequence[Step]) -> Job:
        """Store a new rerun together with the memoized steps it starts from (one transaction)."""
        ...

    # -- periodic schedules --------------------------------------------------------------------
    async def declare_schedules(
        self, entries: Sequence[tuple[str, str, str, str]], now: float
    ) -> list[ScheduleState]:
        """Record each (name, kind, cron, tz) a worker runs: a new schedule starts counting its
        ticks from `now`; a known one keeps its last tick and pause and takes the new cron, kind
        and time zone. Returns the state of every schedule in the database, by name."""
        ...

    async def schedules(self) -> list[ScheduleState]:
        """Every schedule in the database with the job of its newest tick, by name."""
        ...

    async def make_ticks(
        self, name: str, last_tick: float, ticks: Sequence[tuple[float, Job]]
    ) -> list[Job] | None:
        """In one transaction: move the schedule's last tick from `last_tick` to the newest of
        `ticks`, record each (tick, job) and insert the jobs. None, and nothing written, when the
        schedule is paused or its last tick is no longer `last_tick` (another worker made them)."""
        ...

    async def pause_schedule(
        self, name: str, *, paused: bool, reason: str | None, now: float
    ) -> ScheduleState:
        """Pause or resume a schedule for every worker. Resuming restarts its count at `now`, so
        the ticks that fell while it was paused are not made up. Raises NotFound."""
        ...

    async def schedule_jobs(self, name: str, limit: int) -> list[Job]:
        """The jobs a schedule made, newest tick first (at most `limit`)."""
        ...

    async def scheduled(self, now: float, limit: int) -> list[Job]:
        """Queued jobs not yet due at `now`, soonest first."""
        ...

    # -- retention -----------------------------------------------------------------------------
    async def oldest_finished(self) -> dict[Status, float]:
        """When the oldest done job and the oldest failed job were last updated (the statuses
        that have any): from them retention knows when the next job ages past its cutoff."""
        ...

    async def prunable(
        self, cutoffs: Mapping[Status, float], kind: str | None, limit: int
    ) -> list[str]:
        """Ids of done and failed jobs (of `kind`, if given) last updated before their status's
        cutoff, those that finished first first, at most `limit`. Never a queued or running job;
        never the job that holds the newest event (so no event cursor is ever handed out
        twice)."""
        ...

    async def count_prunable(self, cutoffs: Mapping[Status, float], kind: str | None) -> Pruned:
        """What pruning everything `prunable` finds would delete, without deleting it."""
        ...

    async def records(self, job_ids: Sequence[str]) -> list[Record]:
        """Each job that still exists with its attempts, steps and events, in the given order."""
        ...

    async def prune(
        self, job_ids: Sequence[str], cutoffs: Mapping[Status, float], now: float
    ) -> Pruned:
        """Delete these jobs with their attempts, steps, events, faults and schedule runs in one
        transaction, each only if it is still finished before its status's cutoff, and record
        the batch. Returns what was deleted."""
        ...

    async def pruned_at(self, job_id: str) -> float | None:
        """When a prune batch whose id range holds `job_id` ran, or None: a hint that an id
        that is not found was pruned."""
        ...

    async def take_lease(self, name: str, owner: str, now: float, seconds: float) -> bool:
        """Hold the named lease until `now + seconds` if it is free, expired or already
        `owner`'s; whether `owner` holds it now."""
        ...

    # -- operator control ------------------------------------------------------------------------
    async def cancel_queued(self, changes: Sequence[Change], action: Action | None) -> list[bool]:
        """`apply(changes)` (each queued -> failed, reason cancelled) and append `action` to the
        operator trail, in one transaction; the action only when a change won."""
        ...

    async def request_cancel(
        self, requests: Sequence[CancelRequest], action: Action | None
    ) -> list[bool]:
        """Store each cancel request whose job still runs the request's attempt, tell the
        workers (PostgreSQL: NOTIFY), and append `action` when one landed, in one transaction;
        which landed (a request already stored for that job counts as landed)."""
        ...

    async def cancel_requests(self, job_ids: Sequence[str]) -> list[CancelRequest]:
        """The stored cancel requests of these jobs, in one query."""
        ...

    async def wait_for_cancels(self, within: float) -> None:
        """Wait up to `within` seconds, less when a cancel request is stored (PostgreSQL hears
        it through LISTEN/NOTIFY; SQLite just sleeps). A return is a hint to look, no more."""
        ...

    async def pause_kind(
        self, kind: str, *, paused: bool, reason: str | None, action: Action
    ) -> bool:
        """Pause (or resume) `kind` for every worker and append `action`, in one transaction;
        whether it changed anything. Resuming wakes idle workers (PostgreSQL: NOTIFY)."""
        ...

    async def paused_kinds(self) -> list[PausedKind]:
        """Every paused kind, by name."""
        ...

    async def kind_seen(self, kind: str) -> bool:
        """Whether any job of `kind` is stored, or `kind` is paused."""
        ...

    async def record_action(self, action: Action) -> None:
        """Append one row to the operator trail."""
        ...

    async def actions(self, *, after_id: int, since: int, limit: int) -> list[Action]:
        """Trail rows with id > after_id written after event cursor `since` was (their
        `after_cursor` at least `since`), in id order."""
        ...

    # -- wake-ups --------------------------------------------------------------------------------
    @property
    def notifies(self) -> bool:
        """Whether `wait_for_jobs` hears when other processes queue jobs (PostgreSQL's
        LISTEN/NOTIFY), so an idle worker may wait long; False when it can only sleep (SQLite)."""
        ...

    async def wait_for_jobs(
        self, now: float, within: float, *, looked_at: float | None = None
    ) -> None:
        """Wait until a job may have become claimable, at most `within` seconds: another
        process queued or requeued one, or the earliest queued job's `run_after` came (`now` is
        the caller's clock, to time that). `looked_at` is when the caller's last claim read the
        queue: a job that came due after that, and by `now`, ends the wait at once (one due
        before it was seen and left, being of another kind). A backend that cannot hear of new
        jobs just sleeps. A return is a hint to claim, never a promise that a claim will find
        anything."""
        ...
