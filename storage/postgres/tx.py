"""The bodies of PostgresStore's writes: each runs inside one transaction on one pooled
connection. A batch goes to the server as one array per column (see `queries`).

Every transaction that appends events takes the events lock right before, after any job rows it
locks, so cursors commit in order and lock waits never form a cycle."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobdeck.core.contract import (
    CompensationStatus,
    Fault,
    Job,
    Reason,
    Status,
    Step,
    claim_order,
)
from jobdeck.core.errors import NotFound, StorageError
from jobdeck.core.limits import KindLimits, pick
from jobdeck.core.store import Action, CancelRequest, Change, Claimed, ScheduleState
from jobdeck.core.system import HISTOGRAM_SIZE, WORKER_FORGET_AFTER, fold_cutoffs
from jobdeck.storage import checks, limits
from jobdeck.storage.limits import limit_state_from_row
from jobdeck.storage.postgres import queries as q
from jobdeck.storage.postgres.connection import Connection
from jobdeck.storage.rows import (
    change_row,
    encode_json,
    encode_reason,
    fault_from_row,
    job_from_row,
    job_row,
    schedule_from_row,
)
from jobdeck.storage.system import Tally, created, ended

EventRow = tuple[str, str | None, str, int, str | None, float, str | None]


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column (what `unnest` takes)."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _json(value: Any) -> str | None:
    return None if value is None else encode_json(value)


async def append(
    conn: Connection, events: Sequence[EventRow], tally: Tally, *, notify: bool = False
) -> None:
    """Append events, keep `counts` and `kind_counts` exact and add to the rollup, under the
    events lock, in one statement; with `notify`, wake the listening workers when the
    transaction commits (in the same statement)."""
    changed = list(tally.statuses().items())
    if not events and not changed and not tally.rows:
        if notify:
            await conn.execute(q.NOTIFY_QUEUED)
        return
    await conn.execute(
        q.APPEND_EVENTS,
        *_columns(events, 7),
        *_columns(changed, 2),
        *_columns(tally.kind_rows(), 3),
        *_columns(tally.rollup_rows(), 6 + HISTOGRAM_SIZE),
        notify,
    )


async def _holders(conn: Connection, keys: Iterable[str]) -> dict[str, Job]:
    rows = await conn.fetch(q.SELECT_DEDUPED, sorted(set(keys)))
    return {row[0]: job_from_row(tuple(row)[1:]) for row in rows}


async def insert(conn: Connection, jobs: Sequence[Job]) -> list[Job]:
    """New jobs and their creation events; a key already live or done returns its job instead."""
    # A queued job's key needs no look beforehand: the insert skips a key already held and the
    # holder is read then (below), a round trip saved on every submit. A denied job holds no key
    # in the index, so whether its key is held is read first.
    held: dict[str, Job] = {}
    keys = [j.idempotency_key for j in jobs if j.rerun_of is None and j.status is Status.FAILED]
    if keys:
        held = await _holders(conn, keys)
    stored, new = checks.dedupe(jobs, held)
    if not new:
        return stored
    rows = await conn.fetch(q.INSERT_JOBS, *_columns(map(job_row, new), 19))
    inserted = {row[0] for row in rows}
    if len(inserted) != len(new):
        # A key already held (or taken by another transaction meanwhile): hand back its job.
        lost = [job for job in new if job.id not in inserted]
        holders = await _holders(conn, (job.idempotency_key for job in lost))
        instead: dict[str, Job] = {}
        for job in lost:
            holder = holders.get(job.idempotency_key)
            if holder is None:
                raise StorageError(
                    "a job's idempotency key was taken and freed during its insert; "
                    "nothing was stored."
                )
            instead[job.id] = holder
        stored = [instead.get(job.id, job) for job in stored]
        new = [job for job in new if job.id in inserted]
    events: list[EventRow] = [
        (
            job.id,
            None,
            job.status.value,
            job.attempt,
            None if job.reason is None else job.reason.code,
            job.created_at,
            None,
        )
        for job in new
    ]
    tally = Tally()
    for job in new:
        tally.move(job.kind, None, job.status.value)
        tally.end(created(job))
    queued = any(job.status is Status.QUEUED for job in new)
    await append(conn, events, tally, notify=queued)
    return stored


# How many times `insert_queued` tries a job whose key was held and then freed before its
# holder could be read (each time another program is racing it for that key).
KEY_RACES = 5


async def insert_queued(conn: Connection, jobs: Sequence[Job]) -> list[Job]:
    """`insert` for jobs that are all queued, each statement one round trip outside any
    transaction (see `queries.INSERT_QUEUED`): a job whose key is held returns its holder."""
    stored, new = checks.dedupe(jobs, {})
    instead: dict[str, Job] = {}
    for _ in range(KEY_RACES):
        rows = await conn.fetch(q.INSERT_QUEUED, *_columns(map(job_row, new), 19))
        inserted = {row[0] for row in rows}
        lost = [job for job in new if job.id not in inserted]
        if not lost:
            return [instead.get(job.id, job) for job in stored]
        holders = await _holders(conn, (job.idempotency_key for job in lost))
        new = []
        for job in lost:
            holder = holders.get(job.idempotency_key)
            if holder is None:
                new.append(job)  # freed since the insert looked: try it again
            else:
                instead[job.id] = holder
        if not new:
            return [instead.get(job.id, job) for job in stored]
    raise StorageError(
        "a job's idempotency key was taken and freed again and again during its insert; "
        "it was not stored."
    )


@dataclass
class Written:
    """Events and count deltas a transaction's parts collected, appended once at its end (after
    every row lock the parts take: see the module's note on lock order)."""

    events: list[EventRow] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    queued: bool = False  # whether a job went back to the queue (idle workers are told)

    async def append(self, conn: Connection) -> None:
        await append(conn, self.events, self.tally, notify=self.queued)


async def claim(
    conn: Connection,
    *,
    worker: str,
    kinds: Sequence[str],
    limit: int,
    now: float,
    expires: float,
) -> list[Claimed]:
    """queued -> running for up to `limit` ready jobs: their attempts, events and faults."""
    written = Written()
    claimed = await claim_rows(
        conn, written, worker=worker, kinds=kinds, limit=limit, now=now, expires=expires
    )
    await written.append(conn)
    return claimed


async def claim_rows(
    conn: Connection,
    written: Written,
    *,
    worker: str,
    kinds: Sequence[str],
    limit: int,
    now: float,
    expires: float,
) -> list[Claimed]:
    """The claim's rows, its events left in `written`. A kind at its concurrency or rate limit
    is stepped over; the others are claimed as ever."""
    if kinds:
        rows = await conn.fetch(q.CLAIM_KINDS, worker, expires, now, limit, list(kinds))
    else:
        rows = await conn.fetch(q.CLAIM_ANY, worker, expires, now, limit)
    if not rows:
        # The fast claim takes nothing while a kind in reach has a limit: obey them instead.
        limited = [r[0] for r in await conn.fetch(q.LIMITED_KINDS, list(kinds) or None)]
        if limited:
            rows = await _claim_limited(conn, worker, kinds, limited, limit, now, expires)
    if not rows:
        return []
    armed = bool(rows[0][-1])
    jobs = sorted((job_from_row(tuple(row)) for row in rows), key=claim_order)
    written.events += [(job.id, "queued", "running", job.attempt, None, now, None) for job in jobs]
    for job in jobs:
        written.tally.move(job.kind, "queued", "running")
    faults: list[Fault | None] = [None] * len(jobs)
    if armed:
        for i, job in enumerate(jobs):
            row = await conn.fetchrow(q.CONSUME_FAULT, job.id, job.kind)
            faults[i] = None if row is None else fault_from_row(tuple(row))
    return [Claimed(job, fault) for job, fault in zip(jobs, faults, strict=True)]


async def _claim_limited(
    conn: Connection,
    worker: str,
    kinds: Sequence[str],
    limited: list[str],
    limit: int,
    now: float,
    expires: float,
) -> list[Any]:
    """Walk the candidates in claim order (locking them, skipping rows other claims hold); lock
    the limits of the limited kinds among them, in kind order, and read what is in use (a
    statement after the lock sees every claim that held it before); keep the candidates whose
    kind has allowance left, as SQLite's claim does. Claims whose candidates hold no limited
    kind take no limit lock, so only claims that meet one kind's limit take turns. A later walk
    of the same claim takes no new lock: a limited kind it did not lock counts as full."""
    scope = list(kinds) or None
    allowed: dict[str, int | None] = {}
    windows: dict[str, float] = {}
    full: list[str] = []
    claimed: list[Any] = []
    want = limit
    first = True
    while want > 0:
        candidates = [
            (row[0], row[1])
            for row in await conn.fetch(q.SELECT_CANDIDATES, now, scope, full, want)
        ]
        if first:
            first = False
            met = sorted({kind for _, kind in candidates if kind in limited})
            if met:
                await conn.fetch(q.LOCK_LIMITS, met)
                for row in await conn.fetch(q.SELECT_LIMITS, now):
                    state = limit_state_from_row(tuple(row))
                    if state.kind in met:
                        allowed[state.kind] = state.allowance
                        if state.rate is not None:
                            windows[state.kind] = state.rate.seconds
            for kind in limited:
                allowed.setdefault(kind, 0)  # not locked by this claim: full for it
            full = sorted(kind for kind, left in allowed.items() if left == 0)
        kept, _ = pick(candidates, allowed, want)
        if kept:
            got = await conn.fetch(q.CLAIM_IDS, worker, expires, now, kept)
            claimed += got
            for row in got:
                left = allowed.get(row[1])
                if left is not None:
                    allowed[row[1]] = left - 1
        if len(candidates) < want or len(candidates) == len(kept):
            break  # the queue ran out, or nothing was stepped over: a new walk finds no more
        want -= len(kept)
        full = sorted(kind for kind, left in allowed.items() if left == 0)
    spent = Counter(row[1] for row in claimed if row[1] in windows)
    if spent:
        spend = sorted(spent.items())
        await conn.execute(
            q.SPEND_TOKENS,
            [kind for kind, _ in spend],
            [n for _, n in spend],
            [now - windows[kind] for kind, _ in spend],
            now,
        )
    return claimed


async def apply(conn: Connection, changes: Sequence[Change]) -> list[bool]:
    """Compare-and-set each change; an applied one appends its event and closes its attempt."""
    written = Written()
    applied = await apply_rows(conn, written, changes)
    await written.append(conn)
    return applied


async def apply_rows(conn: Connection, written: Written, changes: Sequence[Change]) -> list[bool]:
    """The compare-and-sets of `apply`, their events left in `written`."""
    if len({c.after.id for c in changes}) < len(changes):
        # One job twice in a batch: apply one by one so each compares against the one before.
        return [won for c in changes for won in await apply_rows(conn, written, [c])]
    requeued = sorted({c.after.id for c in changes if c.after.status is Status.QUEUED})
    if requeued:  # ordered against cancel requests of the same jobs (see LOCK_CANCELS)
        await conn.execute(q.LOCK_CANCELS, requeued)
    closes = [
        (c.after.id, c.before.attempt, c.after.updated_at, c.outcome.value,
         encode_reason(c.reason if c.reason is not None else c.after.reason))
        for c in changes
        if c.outcome is not None
    ]  # fmt: skip
    rows = await conn.fetch(
        q.APPLY_CHANGES, *_columns(map(change_row, changes), 14), *_columns(closes, 5)
    )
    won = {row[0] for row in rows}
    applied = [c.after.id in won for c in changes]
    for change, ok in zip(changes, applied, strict=True):
        if not ok:
            continue
        before, after = change.before, change.after
        written.tally.move(after.kind, before.status.value, after.status.value)
        written.tally.end(ended(change))
        reason = change.reason if change.reason is not None else after.reason
        code = None if reason is None else reason.code
        written.events.append(
            (after.id, before.status.value, after.status.value, before.attempt, code,
             after.updated_at, None)
        )  # fmt: skip
        written.queued = written.queued or after.status is Status.QUEUED
    return applied


def one_statement(changes: Sequence[Change]) -> bool:
    """Whether `finish_and_claim` can record these changes: each job once, each ending its
    attempt done or failed (one going back to the queue is ordered against cancel requests and
    wakes listening workers: `apply_rows` does that)."""
    ids = {c.after.id for c in changes}
    return len(ids) == len(changes) and all(c.after.status.finished for c in changes)


async def finish_and_claim(
    conn: Connection,
    changes: Sequence[Change],
    *,
    worker: str,
    kinds: Sequence[str],
    limit: int,
    now: float,
    expires: float,
) -> tuple[list[bool], list[Claimed], bool]:
    """A worker's usual turn in one statement outside any transaction (see
    `queries.FINISH_AND_CLAIM_ANY`): the finished attempts of `changes` (`one_statement` must
    hold), and up to `limit` claimed jobs; last, whether the claim must be made again by `claim`
    in a transaction (a fault is armed or a kind in reach has a limit, and nothing was claimed)."""
    extra: list[tuple[Any, ...]] = []
    closes: list[tuple[Any, ...]] = []
    for c in changes:
        reason = c.reason if c.reason is not None else c.after.reason
        counted = ended(c)
        if counted is None:
            rollup: tuple[Any, ...] = (None, None, None, None, None)
        else:
            (start, _, outcome, code), run_time, slot = counted
            rollup = (start, outcome, code, run_time, None if run_time is None else slot)
        extra.append((c.after.kind, None if reason is None else reason.code, *rollup))
        if c.outcome is not None:
            closes.append(
                (c.after.id, c.before.attempt, c.after.updated_at, c.outcome.value,
                 encode_reason(reason))
            )  # fmt: skip
    args: list[Any] = [
        *_columns(map(change_row, changes), 14),
        *_columns(closes, 5),
        *_columns(extra, 7),
        worker,
        expires,
        now,
        limit,
    ]
    if kinds:
        rows = await conn.fetch(q.FINISH_AND_CLAIM_KINDS, *args, list(kinds))
    else:
        rows = await conn.fetch(q.FINISH_AND_CLAIM_ANY, *args)
    won = set(rows[0][0] or ())
    applied = [i in won for i in range(1, len(changes) + 1)]
    armed, limited = bool(rows[0][1]), bool(rows[0][2])
    jobs = sorted(
        (job_from_row(tuple(row)[3:]) for row in rows if row[3] is not None), key=claim_order
    )
    return (
        applied,
        [Claimed(job, None) for job in jobs],
        limit > 0 and not jobs and (armed or limited),
    )


async def declare_limits(
    conn: Connection, worker: str, declared: Sequence[KindLimits], now: float
) -> None:
    kept, dropped = limits.declared_rows(declared)
    if kept:
        await conn.execute(
            q.DECLARE_LIMITS,
            [lim.kind for lim in kept],
            [lim.concurrency for lim in kept],
            [None if lim.rate is None else lim.rate.count for lim in kept],
            [None if lim.rate is None else lim.rate.seconds for lim in kept],
            worker,
            now,
        )
    if dropped:
        await conn.execute(q.DELETE_LIMITS, dropped)


async def arm_fault(conn: Connection, fault: Fault) -> Fault:
    if fault.job_id is not None and not await conn.fetchval(q.JOB_EXISTS, fault.job_id):
        raise NotFound(f"no job with id {fault.job_id}.")
    row = await conn.fetchrow(
        q.INSERT_FAULT,
        fault.job_id,
        fault.kind,
        fault.retryable,
        fault.times,
        fault.remaining,
        fault.reason,
        fault.at_step,
        fault.created_at,
    )
    return fault_from_row(tuple(row))


# -- durable steps -----------------------------------------------------------------------------


def _step_values(step: Step) -> tuple[Any, ...]:
    return (
        step.job_id,
        step.name,
        step.seq,
        step.status.value,
        _json(step.result),
        step.attempt,
        encode_reason(step.reason),
        step.compensable,
        None if step.compensation is None else step.compensation.value,
        step.compensation_attempts,
        encode_reason(step.compensation_reason),
        step.at,
    )


async def _holds(conn: Connection, job: Job) -> bool:
    return await conn.fetchrow(q.HOLDS_LEASE, job.id, job.attempt, job.lease_owner) is not None


async def record_step(conn: Connection, job: Job, step: Step) -> bool:
    """Store a step's outcome if `job` still runs this attempt under this lease."""
    if not await _holds(conn, job):
        return False
    await conn.execute(q.UPSERT_STEPS, *_columns([_step_values(step)], 12))
    return True


async def record_compensation(
    conn: Connection,
    job: Job,
    name: str,
    status: CompensationStatus,
    attempts: int,
    reason: Reason | None,
    at: float,
) -> bool:
    """Store a compensation's outcome and log it, if `job` still runs under this lease."""
    if not await _holds(conn, job):
        return False
    await conn.execute(
        q.SET_COMPENSATION, status.value, attempts, encode_reason(reason), at, job.id, name
    )
    if status is not CompensationStatus.PENDING:
        code = "compensated" if status is CompensationStatus.DONE else "compensation_failed"
        await append(conn, [(job.id, "running", "running", job.attempt, code, at, name)], Tally())
    return True


async def insert_with_steps(conn: Connection, job: Job, steps: Sequence[Step]) -> Job:
    """A rerun and the memoized steps it starts from, in one transaction."""
    (stored,) = await insert(conn, [job])
    if steps:
        seeds = [_step_values(s.model_copy(update={"job_id": job.id})) for s in steps]
        await conn.execute(q.UPSERT_STEPS, *_columns(seeds, 12))
    return stored


async def declare_schedules(
    conn: Connection, entries: Sequence[tuple[str, str, str, str]], now: float
) -> list[ScheduleState]:
    await conn.executemany(q.DECLARE_SCHEDULE, [(*entry, now) for entry in entries])
    return [schedule_from_row(tuple(row)) for row in await conn.fetch(q.SELECT_SCHEDULES)]


async def make_ticks(
    conn: Connection, name: str, last_tick: float, ticks: Sequence[tuple[float, Job]]
) -> list[Job] | None:
    """The ticks' jobs, stored, or None when the schedule is paused or another worker moved its
    last tick first (then nothing is written)."""
    newest = max(tick for tick, _ in ticks)
    if await conn.execute(q.ADVANCE_SCHEDULE, newest, name, last_tick) != "UPDATE 1":
        return None
    stored = await insert(conn, [job for _, job in ticks])
    await conn.execute(
        q.INSERT_SCHEDULE_RUNS,
        [name] * len(ticks),
        [tick for tick, _ in ticks],
        [job.id for job in stored],
    )
    return stored


async def pause_schedule(
    conn: Connection, name: str, paused: bool, reason: str | None, now: float
) -> ScheduleState:
    if await conn.execute(q.PAUSE_SCHEDULE, name, paused, reason, now) != "UPDATE 1":
        known = [row[0] for row in await conn.fetch(q.SELECT_SCHEDULES)]
        raise NotFound(
            f"no schedule called {name!r} (known schedules: {', '.join(known) or 'none'})."
        )
    rows = await conn.fetch(q.SELECT_SCHEDULES)
    return next(schedule_from_row(tuple(row)) for row in rows if row[0] == name)


async def prune(
    conn: Connection, job_ids: Sequence[str], cutoffs: Mapping[str, float], now: float
) -> tuple[int, int, int, int]:
    """Delete the jobs of `job_ids` still finished before their cutoff, with everything that
    belongs to them (children first: their foreign keys are checked); (jobs, attempts, steps,
    events) deleted."""
    doomed = await conn.fetch(
        q.SELECT_STILL_PRUNABLE,
        list(job_ids),
        cutoffs.get("done", float("-inf")),
        cutoffs.get("failed", float("-inf")),
    )
    if not doomed:
        return 0, 0, 0, 0
    ids = [row[0] for row in doomed]
    attempts = _deleted(await conn.execute(q.DELETE_JOB_ATTEMPTS, ids))
    steps = _deleted(await conn.execute(q.DELETE_JOB_STEPS, ids))
    events = _deleted(await conn.execute(q.DELETE_JOB_EVENTS, ids))
    await conn.execute(q.DELETE_JOB_FAULTS, ids)
    await conn.execute(q.DELETE_JOB_SCHEDULE_RUNS, ids)
    await conn.execute(q.DELETE_JOB_CANCELS, ids)
    jobs = _deleted(await conn.execute(q.DELETE_JOBS, ids))
    await conn.execute(q.INSERT_PRUNE, now, jobs, min(ids), max(ids))
    tally = Tally()
    for (status, kind), n in Counter((r[1], r[2]) for r in doomed).items():
        tally.move(kind, status, None, n)
    await append(conn, [], tally)
    return jobs, attempts, steps, events


def _deleted(status: str) -> int:
    """The row count of a `DELETE n` command status."""
    return int(status.rsplit(" ", 1)[-1])


# -- operator control --------------------------------------------------------------------------


async def record_action(conn: Connection, action: Action | None) -> None:
    if action is not None:
        await conn.execute(
            q.INSERT_ACTION, action.at, action.actor, str(action.action), action.target,
            action.reason,
        )  # fmt: skip


async def cancel_queued(
    conn: Connection, changes: Sequence[Change], action: Action | None
) -> list[bool]:
    applied = await apply(conn, changes) if changes else []
    if any(applied):
        await record_action(conn, action)
    return applied


async def request_cancel(
    conn: Connection, requests: Sequence[CancelRequest], action: Action | None
) -> list[bool]:
    """Each request stored (or already stored) while its job runs that attempt; one NOTIFY."""
    await conn.execute(q.LOCK_CANCELS, sorted({r.job_id for r in requests}))
    landed = []
    for r in requests:
        row = await conn.fetchrow(q.INSERT_CANCEL, r.job_id, r.attempt, r.reason, r.actor, r.at)
        landed.append(row is not None)
    if any(landed):
        await conn.execute(q.NOTIFY_CANCEL)
        await record_action(conn, action)
    return landed


async def pause_kind(
    conn: Connection, kind: str, paused: bool, reason: str | None, action: Action
) -> bool:
    if paused:
        status = await conn.execute(q.PAUSE_KIND, kind, reason, action.actor, action.at)
    else:
        status = await conn.execute(q.RESUME_KIND, kind)
        if status == "DELETE 1":
            await conn.execute(q.NOTIFY_QUEUED)  # its queued jobs are claimable again
    await record_action(conn, action)
    return bool(status.rsplit(" ", 1)[-1] == "1")


# -- the system --------------------------------------------------------------------------------


async def fold(conn: Connection, now: float) -> bool:
    """Fold old rollup buckets into coarser ones and drop the rows of workers silent for over
    an hour, under the events lock; whether anything changed."""
    fine, minutes, hours = fold_cutoffs(now)
    await conn.execute(q.LOCK_EVENTS)
    dropped = _deleted(await conn.execute(q.FORGET_SILENT_WORKERS, now - WORKER_FORGET_AFTER))
    # Finest first: a bucket old enough for two levels (a fold after a long pause) goes through
    # both in this one transaction.
    await conn.execute(q.FOLD_FINE, fine)
    folded = _deleted(await conn.execute(q.DROP_FINE, fine))
    await conn.execute(q.FOLD_MINUTES, minutes)
    folded += _deleted(await conn.execute(q.DROP_MINUTES, minutes))
    await conn.execute(q.FOLD_HOURS, hours)
    folded += _deleted(await conn.execute(q.DROP_HOURS, hours))
    return bool(dropped or folded)
