"""The bodies of SqliteStore's calls: plain functions of a sqlite3 connection, each run whole on
aiosqlite's thread (a write inside `in_transaction`). They return rows; the store builds the
contract values, so this module never waits and never touches the event loop."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import groupby
from typing import NamedTuple, TypeVar

from jobdeck.core.contract import Fault, Job, Status
from jobdeck.core.errors import NotFound, StorageError
from jobdeck.core.limits import KindLimits, pick
from jobdeck.core.store import Action, CancelRequest, Change
from jobdeck.core.system import WORKER_FORGET_AFTER, fold_cutoffs
from jobdeck.storage import checks, limits
from jobdeck.storage.limits import limit_state_from_row
from jobdeck.storage.rows import (
    Row,
    change_row,
    encode_json,
    encode_reason,
    fault_row,
    is_plain_new,
    job_row,
    new_job_row,
)
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite.errors import is_busy
from jobdeck.storage.system import Ended, Move, Tally, created, ended

T = TypeVar("T")
MIN_PAUSE, MAX_PAUSE = 0.00005, 0.001  # seconds between tries for a held write lock
# A claimed job's row and the row of the fault it consumed, if any.
ClaimedRow = tuple[Row, Row | None]


def in_transaction(
    fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection, *, wait: float = 0.0
) -> T:
    begin_write(conn, wait)
    try:
        result = fn(conn)
        conn.execute(q.COMMIT)
    except BaseException:
        if conn.in_transaction:
            conn.execute(q.ROLLBACK)
        raise
    return result


def without_foreign_keys(
    fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection, *, wait: float = 0.0
) -> T:
    """`in_transaction(fn)` with foreign keys unchecked: the pragma only changes outside a
    transaction, and every write runs on this one connection's thread, one after another."""
    conn.execute(q.FOREIGN_KEYS_OFF)
    try:
        return in_transaction(fn, conn, wait=wait)
    finally:
        conn.execute(q.FOREIGN_KEYS_ON)


def begin_write(conn: sqlite3.Connection, wait: float) -> None:
    """Take the write lock, asking again every fraction of a millisecond for up to `wait`
    seconds while another connection holds it.

    A writer's connection has no busy timeout of its own: SQLite's busy handler sleeps 1, 2, 5,
    10, 15 ... ms between tries, so a worker waiting on another worker's 2 ms transaction slept
    for longer than the transaction took. The last busy error goes up to the store."""
    deadline = time.monotonic() + wait
    pause = MIN_PAUSE
    while True:
        try:
            conn.execute(q.BEGIN_WRITE)
            return
        except sqlite3.OperationalError as exc:
            left = deadline - time.monotonic()
            if not is_busy(exc) or left <= 0:
                raise
        time.sleep(min(pause, left))  # the last try comes at the deadline, not before it
        pause = min(pause * 2, MAX_PAUSE)


def insert(conn: sqlite3.Connection, *, jobs: Sequence[Job]) -> list[Job | Row]:
    """New jobs and their creation events; a key already live or done returns its job instead."""
    if all(map(is_plain_new, jobs)) and _insert_fresh(conn, jobs):
        return list(jobs)
    keys = {job.idempotency_key for job in jobs if job.rerun_of is None}
    held: dict[str, Row] = {}
    if keys:
        for row in conn.execute(q.SELECT_DEDUPED, {"keys": encode_json(sorted(keys))}):
            held[row[0]] = row[1:]
    stored, new = checks.dedupe(jobs, held)
    inserted = 0
    # Runs of plain new jobs take the short statements; input order (and so the order of the
    # creation events) is kept.
    for plain, run in groupby(new, key=is_plain_new):
        group = list(run)
        if plain:
            inserted += conn.executemany(q.INSERT_NEW_JOB, map(new_job_row, group)).rowcount
            conn.executemany(q.INSERT_NEW_EVENT, [(job.id, job.created_at) for job in group])
            continue
        inserted += conn.executemany(q.INSERT_JOB, map(job_row, group)).rowcount
        conn.executemany(q.INSERT_EVENT, map(_creation_event, group))
    if inserted != len(new):
        raise StorageError(
            "a job's idempotency key was taken during its own insert; nothing was stored."
        )
    tally = Tally()
    tally.moved([(job.kind, None, job.status.value) for job in new])
    tally.ended_all([created(job) for job in new if job.status is not Status.QUEUED])
    count(conn, tally)
    return stored


def _insert_fresh(conn: sqlite3.Connection, jobs: Sequence[Job]) -> bool:
    """Insert plain new jobs on the guess that no key is taken, which is the common case: the
    unique index checks each key as the row goes in, so no lookup runs first. When a key was
    taken (by a stored job or an earlier one of the batch), undo and answer False."""
    if len(jobs) == 1:
        return _insert_one(conn, jobs[0])
    conn.execute(q.SAVEPOINT_FRESH)  # on an error, the caller's ROLLBACK ends it with the rest
    if conn.executemany(q.INSERT_NEW_JOB, map(new_job_row, jobs)).rowcount != len(jobs):
        conn.execute(q.UNDO_FRESH)
        conn.execute(q.RELEASE_FRESH)
        return False
    conn.executemany(q.INSERT_NEW_EVENT, [(job.id, job.created_at) for job in jobs])
    tally = Tally()
    for kind, n in Counter(job.kind for job in jobs).items():
        tally.move(kind, None, "queued", n)
    count(conn, tally)
    conn.execute(q.RELEASE_FRESH)
    return True


def _insert_one(conn: sqlite3.Connection, job: Job) -> bool:
    """`_insert_fresh` of one job, the shape of most submits: a refused row wrote nothing, so
    there is nothing to undo and no savepoint to take (two statements fewer per commit)."""
    if conn.execute(q.INSERT_NEW_JOB, new_job_row(job)).rowcount != 1:
        return False
    conn.execute(q.INSERT_NEW_EVENT, (job.id, job.created_at))
    conn.execute(q.ADD_TO_COUNT, (1, "queued"))
    conn.execute(q.ADD_TO_KIND_COUNT, (job.kind, "queued", 1))
    return True


def _creation_event(job: Job) -> Row:
    code = None if job.reason is None else job.reason.code
    return (job.id, None, job.status.value, job.attempt, code, job.created_at)


def claim(
    conn: sqlite3.Connection,
    *,
    worker: str,
    kinds: Sequence[str],
    limit: int,
    now: float,
    expires: float,
    tally: Tally | None = None,
) -> list[ClaimedRow]:
    """queued -> running for up to `limit` ready jobs: their attempts, events and faults. A kind
    at its concurrency or rate limit is stepped over; the others are claimed as ever. With
    `tally`, the moves are added to it for the caller to count; else they are counted here."""
    params: dict[str, object] = {"worker": worker, "expires": expires, "now": now, "limit": limit}
    limited = limits.in_scope((row[0] for row in conn.execute(q.ANY_LIMIT)), kinds)
    if limited:
        rows = _claim_limited(conn, params, kinds, limited, now=now, limit=limit)
    else:
        if kinds:
            params["kinds"] = encode_json(list(kinds))
        rows = conn.execute(q.CLAIM_KINDS if kinds else q.CLAIM_ANY, params).fetchall()
    if not rows:
        return []
    rows.sort(key=lambda row: (-row[15], row[12], row[0]))  # RETURNING has no order; ours
    conn.executemany(q.INSERT_ATTEMPT, [(row[0], row[4], now, worker) for row in rows])
    conn.executemany(
        q.INSERT_EVENT, [(row[0], "queued", "running", row[4], None, now) for row in rows]
    )
    moves = Tally() if tally is None else tally
    for kind, n in Counter(row[1] for row in rows).items():
        moves.move(kind, "queued", "running", n)
    if tally is None:
        count(conn, moves)
    faults: list[Row | None] = [None] * len(rows)
    if conn.execute(q.ANY_FAULT_ARMED).fetchone()[0]:
        for i, row in enumerate(rows):
            faults[i] = conn.execute(q.CONSUME_FAULT, {"job_id": row[0], "kind": row[1]}).fetchone()
    return list(zip(rows, faults, strict=True))


def _claim_limited(
    conn: sqlite3.Connection,
    params: dict[str, object],
    kinds: Sequence[str],
    limited: list[str],
    *,
    now: float,
    limit: int,
) -> list[Row]:
    """The claim when a limit may apply: walk the candidates in claim order, keep those whose
    kind has allowance left, claim them, and walk again without the kinds that ran out. The
    write lock is held throughout, so no other claim counts the same running jobs or tokens."""
    states = [
        limit_state_from_row(row)
        for row in conn.execute(q.SELECT_LIMITS, {"now": now})
        if row[0] in limited
    ]
    allowed = {state.kind: state.allowance for state in states}
    windows = {state.kind: state.rate.seconds for state in states if state.rate is not None}
    full = [kind for kind, left in allowed.items() if left == 0]
    want = limit
    scope = encode_json(list(kinds)) if kinds else None
    claimed: list[Row] = []
    while want > 0:
        walk = {"now": now, "kinds": scope, "full": encode_json(full), "limit": want}
        candidates = conn.execute(q.SELECT_CANDIDATES, walk).fetchall()
        kept, used_up = pick(candidates, allowed, want)
        if kept:
            got = conn.execute(q.CLAIM_IDS, params | {"ids": encode_json(kept)}).fetchall()
            claimed += got
            _spend(conn, got, windows, now)
            for row in got:
                left = allowed.get(row[1])
                if left is not None:
                    allowed[row[1]] = left - 1
        if len(candidates) < want or len(candidates) == len(kept) or not used_up:
            break  # the queue ran out, or nothing was stepped over: a new walk finds no more
        want -= len(kept)
        full += used_up
    return claimed


def _spend(
    conn: sqlite3.Connection, rows: Sequence[Row], windows: Mapping[str, float], now: float
) -> None:
    """One token per claimed job of a rate-limited kind, in the claim's transaction."""
    for kind, n in Counter(row[1] for row in rows if row[1] in windows).items():
        conn.execute(q.FORGET_SPENT, {"kind": kind, "since": now - windows[kind]})
        conn.execute(q.SPEND_TOKENS, {"kind": kind, "now": now, "n": n})


def declare_limits(
    conn: sqlite3.Connection, *, worker: str, declared: Sequence[KindLimits], now: float
) -> None:
    kept, dropped = limits.declared_rows(declared)
    conn.executemany(
        q.DECLARE_LIMIT,
        [
            {
                "kind": lim.kind,
                "concurrency": lim.concurrency,
                "rate_count": None if lim.rate is None else lim.rate.count,
                "rate_seconds": None if lim.rate is None else lim.rate.seconds,
                "worker": worker,
                "now": now,
            }
            for lim in kept
        ],
    )
    conn.executemany(q.DELETE_LIMIT, [(kind,) for kind in dropped])


class Planned(NamedTuple):
    """One change as its transaction's statements take it, built before the write lock is held."""

    sql: str
    values: Row  # rows.change_row
    event: Row  # job id, the status it was, the status it becomes, ...
    close: Row | None  # the attempt it ends, if any
    move: Move  # kind, the status it was, the status it becomes
    ended: Ended | None  # what the rollup counts, if anything


_APPLY_SQL = {Status.FAILED: q.APPLY_FAILURE, Status.QUEUED: q.APPLY_REQUEUE}


def plan(changes: Sequence[Change]) -> list[Planned]:
    """Encode each change's values, event and attempt close: Python work that need not hold the
    write lock (other processes wait on it), so the store does it before taking it."""
    planned: list[Planned] = []
    for change in changes:
        before, after = change.before, change.after
        reason = change.reason if change.reason is not None else after.reason
        code = None if reason is None else reason.code
        at = after.updated_at
        close = None
        if change.outcome is not None:
            close = (at, change.outcome.value, encode_reason(reason), after.id, before.attempt)
        was, becomes = before.status.value, after.status.value
        planned.append(
            Planned(
                _APPLY_SQL.get(after.status, q.APPLY_CHANGE),
                change_row(change),
                (after.id, was, becomes, before.attempt, code, at),
                close,
                (after.kind, was, becomes),
                ended(change),
            )
        )
    return planned


def apply(
    conn: sqlite3.Connection, *, planned: Sequence[Planned], tally: Tally | None = None
) -> list[bool]:
    """Compare-and-set each change; an applied one appends its event and closes its attempt.
    With `tally`, the moves are added to it for the caller to count (a worker's apply and claim
    count once: its jobs' running -1 and +1 cancel out); else they are counted here."""
    applied = [conn.execute(c.sql, c.values).rowcount == 1 for c in planned]
    won = planned if all(applied) else [c for c, ok in zip(planned, applied, strict=True) if ok]
    if not won:
        return applied
    conn.executemany(q.INSERT_EVENT, [c.event for c in won])
    closes = [c.close for c in won if c.close is not None]
    if closes:
        conn.executemany(q.CLOSE_ATTEMPT, closes)
    # The counts' part of each job is worked out in `plan`; here it is only added up.
    moves = Tally() if tally is None else tally
    moves.moved([c.move for c in won])
    moves.ended_all([c.ended for c in won])
    if tally is None:
        count(conn, moves)
    return applied


def count(conn: sqlite3.Connection, tally: Tally) -> None:
    """Keep `counts` and `kind_counts` exact and add to the rollup: every write that adds jobs,
    deletes them or moves them between statuses calls this in its own transaction, once, with
    its moves summed (one statement per distinct key)."""
    changed = [(delta, status) for status, delta in tally.statuses().items()]
    if changed:
        conn.executemany(q.ADD_TO_COUNT, changed)
    kinds = tally.kind_rows()
    if kinds:
        conn.executemany(q.ADD_TO_KIND_COUNT, kinds)
    if tally.rows:
        conn.executemany(q.ADD_TO_ROLLUP, tally.rollup_rows())


def arm_fault(conn: sqlite3.Connection, *, fault: Fault) -> Row:
    if fault.job_id is not None and not conn.execute(q.JOB_EXISTS, (fault.job_id,)).fetchone()[0]:
        raise NotFound(f"no job with id {fault.job_id}.")
    row: Row = conn.execute(q.INSERT_FAULT, fault_row(fault)).fetchone()
    return row


def declare_schedules(
    conn: sqlite3.Connection, *, entries: Sequence[tuple[str, str, str, str]], now: float
) -> list[Row]:
    conn.executemany(
        q.DECLARE_SCHEDULE,
        [
            {"name": name, "kind": kind, "cron": cron, "tz": tz, "now": now}
            for name, kind, cron, tz in entries
        ],
    )
    return conn.execute(q.SELECT_SCHEDULES).fetchall()


def make_ticks(
    conn: sqlite3.Connection, *, name: str, last_tick: float, ticks: Sequence[tuple[float, Job]]
) -> list[Job | Row] | None:
    """The ticks' jobs, stored, or None when the schedule is paused or another worker moved its
    last tick first (then nothing is written)."""
    newest = max(tick for tick, _ in ticks)
    if conn.execute(q.ADVANCE_SCHEDULE, (newest, name, last_tick)).rowcount != 1:
        return None
    stored = insert(conn, jobs=[job for _, job in ticks])
    conn.executemany(
        q.INSERT_SCHEDULE_RUN,
        [
            (name, tick, job.id if isinstance(job, Job) else job[0])
            for (tick, _), job in zip(ticks, stored, strict=True)
        ],
    )
    return stored


def pause_schedule(
    conn: sqlite3.Connection, *, name: str, paused: bool, reason: str | None, now: float
) -> Row:
    params = {"name": name, "paused": int(paused), "reason": reason, "now": now}
    if conn.execute(q.PAUSE_SCHEDULE, params).rowcount != 1:
        known = [row[0] for row in conn.execute(q.SELECT_SCHEDULES)]
        raise NotFound(
            f"no schedule called {name!r} (known schedules: {', '.join(known) or 'none'})."
        )
    row: Row = next(r for r in conn.execute(q.SELECT_SCHEDULES) if r[0] == name)
    return row


def prunable(
    conn: sqlite3.Connection, *, cutoffs: Mapping[str, float], kind: str | None, limit: int
) -> list[str]:
    keep = newest_event_job(conn)
    found: list[tuple[float, str]] = []
    for status, before in cutoffs.items():
        params = {"before": before, "kind": kind, "keep": keep, "limit": limit}
        found += [(at, job_id) for job_id, at in conn.execute(q.SELECT_PRUNABLE[status], params)]
    return [job_id for _, job_id in sorted(found)[:limit]]


def count_prunable(
    conn: sqlite3.Connection, *, cutoffs: Mapping[str, float], kind: str | None
) -> tuple[int, int, int, int]:
    keep = newest_event_job(conn)
    totals = [0, 0, 0, 0]
    for status, before in cutoffs.items():
        params = {"before": before, "kind": kind, "keep": keep}
        row = conn.execute(q.COUNT_PRUNABLE[status], params).fetchone()
        totals = [t + int(n) for t, n in zip(totals, row, strict=True)]
    return totals[0], totals[1], totals[2], totals[3]


def newest_event_job(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(q.NEWEST_EVENT_JOB).fetchone()
    return None if row is None else str(row[0])


def records(
    conn: sqlite3.Connection, *, job_ids: Sequence[str]
) -> list[tuple[Row, list[Row], list[Row], list[Row]]]:
    found = []
    for job_id in job_ids:
        job = conn.execute(q.SELECT_JOB, (job_id,)).fetchone()
        if job is None:
            continue
        found.append(
            (
                job,
                conn.execute(q.SELECT_ATTEMPTS, (job_id,)).fetchall(),
                conn.execute(q.SELECT_STEPS, (job_id,)).fetchall(),
                conn.execute(q.SELECT_JOB_EVENTS, (job_id,)).fetchall(),
            )
        )
    return found


def prune(
    conn: sqlite3.Connection, *, job_ids: Sequence[str], cutoffs: Mapping[str, float], now: float
) -> tuple[int, int, int, int]:
    """Delete the jobs of `job_ids` still finished before their cutoff, with everything that
    belongs to them; (jobs, attempts, steps, events) deleted."""
    params = {
        "ids": encode_json(list(job_ids)),
        "done_before": cutoffs.get("done", float("-inf")),
        "failed_before": cutoffs.get("failed", float("-inf")),
        "keep": newest_event_job(conn),
    }
    doomed = conn.execute(q.SELECT_STILL_PRUNABLE, params).fetchall()
    if not doomed:
        return 0, 0, 0, 0
    ids = {"ids": encode_json([job_id for job_id, *_ in doomed])}
    attempts = conn.execute(q.DELETE_JOB_ATTEMPTS, ids).rowcount
    steps = conn.execute(q.DELETE_JOB_STEPS, ids).rowcount
    events = conn.execute(q.DELETE_JOB_EVENTS, ids).rowcount
    conn.execute(q.DELETE_JOB_FAULTS, ids)
    conn.execute(q.DELETE_JOB_SCHEDULE_RUNS, ids)
    conn.execute(q.DELETE_JOB_CANCELS, ids)
    jobs = conn.execute(q.DELETE_JOBS, ids).rowcount
    tally = Tally()
    for (kind, status), n in Counter((k, s) for _, s, k in doomed).items():
        tally.move(kind, status, None, n)
    count(conn, tally)
    names = sorted(job_id for job_id, *_ in doomed)
    conn.execute(q.INSERT_PRUNE, (now, jobs, names[0], names[-1]))
    return jobs, attempts, steps, events


def take_lease(
    conn: sqlite3.Connection, *, name: str, owner: str, now: float, seconds: float
) -> bool:
    params = {"name": name, "owner": owner, "until": now + seconds, "now": now}
    return conn.execute(q.TAKE_LEASE, params).rowcount == 1


# -- operator control --------------------------------------------------------------------------


def action_row(action: Action) -> Row:
    return (action.at, action.actor, str(action.action), action.target, action.reason)


def record_action(conn: sqlite3.Connection, action: Action | None) -> None:
    if action is not None:
        conn.execute(q.INSERT_ACTION, action_row(action))


def cancel_queued(
    conn: sqlite3.Connection, *, planned: Sequence[Planned], action: Action | None
) -> list[bool]:
    applied = apply(conn, planned=planned) if planned else []
    if any(applied):
        record_action(conn, action)
    return applied


def request_cancel(
    conn: sqlite3.Connection, *, requests: Sequence[CancelRequest], action: Action | None
) -> list[bool]:
    """Each request stored (or already stored) while its job runs that attempt."""
    landed = []
    for r in requests:
        row = (r.job_id, r.attempt, r.reason, r.actor, r.at)
        stored = conn.execute(q.INSERT_CANCEL, row).rowcount == 1
        landed.append(stored or bool(conn.execute(q.CANCEL_EXISTS, (r.job_id,)).fetchone()[0]))
    if any(landed):
        record_action(conn, action)
    return landed


def pause_kind(
    conn: sqlite3.Connection, *, kind: str, paused: bool, reason: str | None, action: Action
) -> bool:
    if paused:
        changed = conn.execute(q.PAUSE_KIND, (kind, reason, action.actor, action.at)).rowcount
    else:
        changed = conn.execute(q.RESUME_KIND, (kind,)).rowcount
    record_action(conn, action)
    return changed == 1


# -- the system --------------------------------------------------------------------------------


def fold(conn: sqlite3.Connection, *, now: float) -> bool:
    """Fold old rollup buckets into coarser ones and drop the rows of workers silent for over
    an hour; whether anything changed."""
    cutoffs = fold_cutoffs(now)._asdict()
    changed = conn.execute(q.FORGET_SILENT_WORKERS, {"before": now - WORKER_FORGET_AFTER}).rowcount
    if not conn.execute(q.ANY_TO_FOLD, cutoffs).fetchone()[0]:
        return changed > 0
    # Finest first: a bucket old enough for two levels (a fold after a long pause) goes through
    # both in this one transaction.
    conn.execute(q.FOLD_FINE, cutoffs)
    conn.execute(q.DROP_FINE, cutoffs)
    conn.execute(q.FOLD_MINUTES, cutoffs)
    conn.execute(q.DROP_MINUTES, cutoffs)
    conn.execute(q.FOLD_HOURS, cutoffs)
    conn.execute(q.DROP_HOURS, cutoffs)
    return True


def needs_fold(conn: sqlite3.Connection, *, now: float) -> bool:
    """Whether `fold` has anything to do (a read: most rounds it has not)."""
    if conn.execute(q.ANY_TO_FOLD, fold_cutoffs(now)._asdict()).fetchone()[0]:
        return True
    row = conn.execute(q.ANY_SILENT_WORKER, {"before": now - WORKER_FORGET_AFTER}).fetchone()
    return bool(row[0])


def workers(conn: sqlite3.Connection, *, now: float) -> list[tuple[Row, int]]:
    """Registered workers heard from within the hour, each with its running jobs."""
    running = dict(conn.execute(q.RUNNING_BY_OWNER).fetchall())
    rows = conn.execute(q.SELECT_WORKERS, {"since": now - WORKER_FORGET_AFTER}).fetchall()
    return [(row, int(running.get(row[0], 0))) for row in rows]
