"""SqliteStore: the `Store` of jobdeck.core.store on one SQLite file.

Each public method is one trip to aiosqlite's thread: a write runs as one `BEGIN IMMEDIATE`
transaction there (retried whole while another connection holds the lock), a read as one plain
function. The bodies of those calls are in `tx`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import aiosqlite

from jobdeck.core.contract import (
    Attempt,
    CompensationStatus,
    Event,
    Fault,
    Job,
    Reason,
    Status,
    Step,
)
from jobdeck.core.errors import NotFound, StorageError
from jobdeck.core.limits import KindLimits, LimitState
from jobdeck.core.store import (
    Action,
    CancelRequest,
    Change,
    Claimed,
    Page,
    PausedKind,
    Pruned,
    Record,
    ScheduleState,
    Store,
)
from jobdeck.core.system import RollupRow, WorkerInfo, WorkerState
from jobdeck.storage import checks, lookup
from jobdeck.storage.limits import limit_state_from_row
from jobdeck.storage.rows import (
    Row,
    action_from_row,
    attempt_from_row,
    counts_from,
    encode_json,
    event_from_row,
    fault_from_row,
    job_from_row,
    page_from,
    schedule_from_row,
)
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite import reads, tx
from jobdeck.storage.sqlite import steps as steps_sql
from jobdeck.storage.sqlite.checkpoint import Checkpointer
from jobdeck.storage.sqlite.connection import connect, on_thread, prepare
from jobdeck.storage.sqlite.errors import (
    LOCK_RETRIES,
    MIN_LOCK_WAIT,
    not_storable,
    retry_pause,
    storage_error,
)
from jobdeck.storage.sqlite.files import check_path, create_file
from jobdeck.storage.sqlite.group_commit import GroupCommit
from jobdeck.storage.system import (
    Tally,
    kind_counts_from,
    oldest_from,
    rollup_from_row,
    worker_from_row,
    worker_values,
)

T = TypeVar("T")
log = logging.getLogger(__name__)


class SqliteStore:
    """Jobs, attempts, events, faults and workers in one SQLite file (WAL, one writer at a time).

    Open it with `await SqliteStore.open(path)` or `jobdeck.storage.open_store`. Every method
    raises `StorageError` with one sentence for database trouble; none leaks an sqlite3 error.
    """

    def __init__(
        self, db: aiosqlite.Connection, path: str, *, read_only: bool, busy_timeout: float = 5.0
    ) -> None:
        self._db = db
        self.path = path
        self.read_only = read_only
        self._closed = False
        self._lock_wait = max(busy_timeout, MIN_LOCK_WAIT)
        # Concurrent inserts share a transaction (see group_commit); a lone one waits for none.
        self._inserts = GroupCommit(self._insert_now)
        self._checkpoints = None if read_only else Checkpointer(path)

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        read_only: bool = False,
        create: bool = True,
        busy_timeout: float = 5.0,
    ) -> SqliteStore:
        """Open (creating and migrating when writable) the database at `path`.

        Raises StorageError when the folder or file is missing, the file is not a jobdeck
        database, its schema is newer than this jobdeck, or it stays locked."""
        if check_path(path, read_only=read_only, create=create):
            create_file(path)
        try:
            db = await connect(path, read_only=read_only)
        except sqlite3.Error as exc:
            raise storage_error(exc, path) from exc
        store = cls(db, path, read_only=read_only, busy_timeout=busy_timeout)
        busy_ms = max(0, int(busy_timeout * 1000))
        try:
            await store._run(partial(prepare, path=path, read_only=read_only, busy_ms=busy_ms))
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._checkpoints is not None:
                await self._checkpoints.close()
            if not self.read_only:
                await on_thread(self._db, lambda conn: conn.execute(q.OPTIMIZE))
        except sqlite3.Error as exc:
            log.info("skipped PRAGMA optimize on %s: %s", self.path, exc)
        finally:
            await self._db.close()

    # -- plumbing ------------------------------------------------------------------------------
    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the connection's thread, retrying it whole while the database is busy,
        for at most the busy timeout in all (at least MIN_LOCK_WAIT); then one StorageError."""
        if self._closed:
            raise StorageError(f"the database {self.path} is already closed.")
        started = time.monotonic()
        for retry in range(LOCK_RETRIES + 1):
            try:
                result: T = await on_thread(self._db, fn)
                return result
            except (OverflowError, UnicodeEncodeError) as exc:
                raise not_storable(exc) from None
            except sqlite3.Error as exc:
                pause = retry_pause(
                    exc,
                    self.path,
                    retry=retry,
                    retries=LOCK_RETRIES,
                    waited=time.monotonic() - started,
                    lock_wait=self._lock_wait,
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def _write(
        self, fn: Callable[[sqlite3.Connection], T], *, foreign_keys: bool = True
    ) -> T:
        """Run `fn` inside one write transaction (see `_run` for the retries); a prune runs
        with foreign keys unchecked (see `tx.without_foreign_keys`)."""
        if self.read_only:
            raise StorageError(
                f"the database {self.path} is open read-only; open it writable to change it."
            )
        body = tx.in_transaction if foreign_keys else tx.without_foreign_keys
        result = await self._run(partial(body, fn, wait=self._lock_wait))
        if self._checkpoints is not None:
            self._checkpoints.wrote()
        return result

    # -- writes --------------------------------------------------------------------------------
    async def insert(self, jobs: Sequence[Job]) -> list[Job]:
        checks.new_jobs(jobs)
        if not jobs:
            return []
        stored = await self._inserts(jobs)
        return [job if isinstance(job, Job) else job_from_row(job) for job in stored]

    async def _insert_now(self, jobs: list[Job]) -> list[Job | Row]:
        return await self._write(partial(tx.insert, jobs=jobs))

    async def claim(
        self, worker: str, kinds: Sequence[str], limit: int, now: float, lease_seconds: float
    ) -> list[Claimed]:
        if limit <= 0:
            return []
        body = partial(
            tx.claim, worker=worker, kinds=kinds, limit=limit, now=now, expires=now + lease_seconds
        )
        return _claimed(await self._write(body))

    async def apply(self, changes: Sequence[Change]) -> list[bool]:
        checks.changes(changes)
        if not changes:
            return []
        return await self._write(partial(tx.apply, planned=tx.plan(changes)))

    async def apply_and_claim(
        self,
        changes: Sequence[Change],
        worker: str,
        kinds: Sequence[str],
        limit: int,
        now: float,
        lease_seconds: float,
    ) -> tuple[list[bool], list[Claimed]]:
        checks.changes(changes)
        expires = now + lease_seconds
        planned = tx.plan(changes)

        def both(conn: sqlite3.Connection) -> tuple[list[bool], list[tx.ClaimedRow]]:
            # One count for both parts: a worker's finished jobs leave `running` as many of its
            # new ones enter it, and those moves cancel out before they reach a statement.
            moves = Tally()
            applied = tx.apply(conn, planned=planned, tally=moves) if planned else []
            rows: list[tx.ClaimedRow] = []
            if limit > 0:
                rows = tx.claim(
                    conn, worker=worker, kinds=kinds, limit=limit, now=now, expires=expires,
                    tally=moves,
                )  # fmt: skip
            tx.count(conn, moves)
            return applied, rows

        applied, rows = await self._write(both)
        return applied, _claimed(rows)

    async def heartbeat(
        self, worker: str, job_ids: Sequence[str], lease_expires_at: float, now: float
    ) -> set[str]:
        """Extend the leases `worker` holds that have not yet ended at `now` (a lease that ended is
        lost, even if nobody has recovered the job yet); returns the ids it still holds."""
        if not job_ids:
            return set()
        params = {"ids": encode_json(list(job_ids)), "worker": worker, "now": now}
        params["expires"] = lease_expires_at
        rows = await self._write(lambda conn: conn.execute(q.HEARTBEAT, params).fetchall())
        return {row[0] for row in rows}

    async def expired(self, now: float, limit: int) -> list[Job]:
        params = {"now": now, "limit": limit}
        rows = await self._run(lambda conn: conn.execute(q.SELECT_EXPIRED, params).fetchall())
        return [job_from_row(row) for row in rows]

    async def arm_fault(self, fault: Fault) -> Fault:
        return fault_from_row(await self._write(partial(tx.arm_fault, fault=fault)))

    async def touch_worker(self, worker: str, now: float) -> None:
        await self._write(lambda conn: conn.execute(q.TOUCH_WORKER, (worker, now)))

    async def forget_worker(self, worker: str) -> None:
        await self._write(lambda conn: conn.execute(q.DELETE_WORKER, (worker,)))

    # -- the system ----------------------------------------------------------------------------
    async def register_worker(self, info: WorkerInfo, now: float) -> None:
        values = worker_values(info, now)
        await self._write(lambda conn: conn.execute(q.REGISTER_WORKER, values))

    async def beat_worker(self, worker: str, now: float, done_5m: int, failed_5m: int) -> bool:
        values = {"name": worker, "now": now, "done": done_5m, "failed": failed_5m}
        changed = await self._write(lambda conn: conn.execute(q.BEAT_WORKER, values).rowcount)
        return changed == 1

    async def fold_rollup(self, now: float) -> bool:
        if self.read_only:
            await self._write(lambda conn: None)  # refuses, in the one sentence every write has
        if not await self._run(partial(tx.needs_fold, now=now)):
            return False
        return await self._write(partial(tx.fold, now=now))

    async def workers(self, now: float) -> list[WorkerState]:
        rows = await self._run(partial(tx.workers, now=now))
        return [worker_from_row(row, running) for row, running in rows]

    async def rollup(self, since: float, kind: str | None = None) -> list[RollupRow]:
        sql = q.SELECT_ROLLUP if since > 0 else q.SELECT_ROLLUP_ALL
        params = {"since": since, "kind": kind}
        rows = await self._run(lambda conn: conn.execute(sql, params).fetchall())
        return [rollup_from_row(row) for row in rows]

    async def rollup_sums(
        self, edges: Sequence[float], kind: str | None = None, *, per_kind: bool = True
    ) -> list[RollupRow]:
        if len(edges) < 2:
            return []
        sql = q.SUM_ROLLUP_PER_KIND if per_kind else q.SUM_ROLLUP
        params = {"edges": encode_json(sorted(edges)), "kind": kind}
        rows = await self._run(lambda conn: conn.execute(sql, params).fetchall())
        return [rollup_from_row(row) for row in rows]

    async def kind_counts(self) -> dict[str, dict[Status, int]]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_KIND_COUNTS).fetchall())
        return kind_counts_from(rows)

    async def oldest_queued(self) -> dict[str, float]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_OLDEST_QUEUED).fetchall())
        return oldest_from(rows)

    # -- limits --------------------------------------------------------------------------------
    async def declare_limits(self, worker: str, limits: Sequence[KindLimits], now: float) -> None:
        if limits:
            await self._write(partial(tx.declare_limits, worker=worker, declared=limits, now=now))

    async def limits(self, now: float) -> list[LimitState]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_LIMITS, {"now": now}).fetchall())
        return [limit_state_from_row(row) for row in rows]

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, job_id: str) -> Job:
        row = await self._run(lambda conn: conn.execute(q.SELECT_JOB, (job_id,)).fetchone())
        if row is None:
            raise NotFound(f"no job with id {job_id}.")
        return job_from_row(row)

    async def find(self, prefix: str) -> Job:
        """The job whose id is `prefix`, or the one job whose id starts or ends with it (at least
        four characters). Raises NotFound, or InvalidInput when it is short or ambiguous."""
        lookup.check_fragment(prefix)
        found = await self._run(partial(lookup.find_row, text=prefix))
        if isinstance(found, tuple):
            return job_from_row(found)
        lookup.not_one(prefix, found)

    async def attempts(self, job_id: str) -> list[Attempt]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_ATTEMPTS, (job_id,)).fetchall())
        return [attempt_from_row(row) for row in rows]

    async def reruns(self, job_id: str) -> list[Job]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_RERUNS, (job_id,)).fetchall())
        return [job_from_row(row) for row in rows]

    async def counts(self) -> dict[Status, int]:
        return counts_from(await self._run(lambda conn: conn.execute(q.SELECT_COUNTS).fetchall()))

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
        if not checks.page_args(limit, text):
            return Page([], None)
        params = {
            "status": Status(status).value,
            "after": lookup.page_start(after, newest_first),
            "kind": kind,
            "pattern": lookup.like_anywhere(text),
            "limit": limit + 1,
        }
        sql = q.PAGE_NEWEST if newest_first else q.PAGE_OLDEST
        return page_from(await self._run(lambda conn: conn.execute(sql, params).fetchall()), limit)

    async def failure_groups(self) -> list[tuple[str, int]]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_FAILURE_GROUPS).fetchall())
        return [(str(code), int(n)) for code, n in rows]

    async def failed_with(self, code: str, limit: int) -> list[Job]:
        rows = await self._run(
            lambda conn: conn.execute(q.SELECT_FAILED_WITH, (code, limit)).fetchall()
        )
        return [job_from_row(row) for row in rows]

    async def events(self, since: int = 0, limit: int = 500) -> list[Event]:
        rows = await self._run(
            lambda conn: conn.execute(q.SELECT_EVENTS, (since, limit)).fetchall()
        )
        return [event_from_row(row) for row in rows]

    async def last_cursor(self) -> int:
        row = await self._run(lambda conn: conn.execute(q.SELECT_LAST_CURSOR).fetchone())
        return int(row[0])

    async def faults(self) -> list[Fault]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_ARMED_FAULTS).fetchall())
        return [fault_from_row(row) for row in rows]

    async def workers_alive(self, now: float, within: float) -> int:
        params = {"now": now, "within": within}
        row = await self._run(lambda conn: conn.execute(q.COUNT_WORKERS_SEEN, params).fetchone())
        return int(row[0])

    # -- durable steps ---------------------------------------------------------------------------
    async def steps(self, job_id: str) -> list[Step]:
        rows = await self._run(lambda conn: steps_sql.select_steps(conn, job_id))
        return [steps_sql.step_from_row(row) for row in rows]

    async def record_step(self, job: Job, step: Step) -> bool:
        return await self._write(partial(steps_sql.record_step, job=job, step=step))

    async def record_compensation(
        self,
        job: Job,
        name: str,
        status: CompensationStatus,
        attempts: int,
        reason: Reason | None,
        at: float,
    ) -> bool:
        body = partial(
            steps_sql.record_compensation,
            job=job,
            name=name,
            status=status,
            attempts=attempts,
            reason=reason,
            at=at,
        )
        return await self._write(body)

    async def insert_rerun(self, job: Job, steps: Sequence[Step]) -> Job:
        checks.new_rerun(job)
        (stored,) = await self._write(partial(steps_sql.insert_with_steps, job=job, steps=steps))
        return stored if isinstance(stored, Job) else job_from_row(stored)

    # -- operator control ----------------------------------------------------------------------
    async def cancel_queued(self, changes: Sequence[Change], action: Action | None) -> list[bool]:
        checks.changes(changes)
        return await self._write(partial(tx.cancel_queued, planned=tx.plan(changes), action=action))

    async def request_cancel(
        self, requests: Sequence[CancelRequest], action: Action | None
    ) -> list[bool]:
        return await self._write(partial(tx.request_cancel, requests=requests, action=action))

    async def cancel_requests(self, job_ids: Sequence[str]) -> list[CancelRequest]:
        if not job_ids:
            return []
        params = {"ids": encode_json(list(job_ids))}
        rows = await self._run(lambda conn: conn.execute(q.SELECT_CANCELS, params).fetchall())
        return [CancelRequest(*row) for row in rows]

    async def wait_for_cancels(self, within: float) -> None:
        """SQLite cannot tell another process a cancel was asked for: the worker polls."""
        await asyncio.sleep(within)

    async def pause_kind(
        self, kind: str, *, paused: bool, reason: str | None, action: Action
    ) -> bool:
        body = partial(tx.pause_kind, kind=kind, paused=paused, reason=reason, action=action)
        return await self._write(body)

    async def paused_kinds(self) -> list[PausedKind]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_PAUSED).fetchall())
        return [PausedKind(*row) for row in rows]

    async def kind_seen(self, kind: str) -> bool:
        row = await self._run(lambda conn: conn.execute(q.KIND_SEEN, (kind,)).fetchone())
        return bool(row[0])

    async def record_action(self, action: Action) -> None:
        await self._write(partial(tx.record_action, action=action))

    async def actions(self, *, after_id: int, since: int, limit: int) -> list[Action]:
        params = {"after_id": after_id, "since": since, "limit": limit}
        rows = await self._run(lambda conn: conn.execute(q.SELECT_ACTIONS, params).fetchall())
        return [action_from_row(row) for row in rows]

    # -- wake-ups ------------------------------------------------------------------------------
    @property
    def notifies(self) -> bool:
        """SQLite cannot tell another process that a job was queued: idle workers poll."""
        return False

    # -- periodic schedules ----------------------------------------------------------------------
    async def declare_schedules(
        self, entries: Sequence[tuple[str, str, str, str]], now: float
    ) -> list[ScheduleState]:
        body = partial(tx.declare_schedules, entries=entries, now=now)
        return [schedule_from_row(row) for row in await self._write(body)]

    async def schedules(self) -> list[ScheduleState]:
        rows = await self._run(lambda conn: conn.execute(q.SELECT_SCHEDULES).fetchall())
        return [schedule_from_row(row) for row in rows]

    async def make_ticks(
        self, name: str, last_tick: float, ticks: Sequence[tuple[float, Job]]
    ) -> list[Job] | None:
        if not ticks:
            return []
        checks.new_jobs([job for _, job in ticks])
        body = partial(tx.make_ticks, name=name, last_tick=last_tick, ticks=ticks)
        stored = await self._write(body)
        if stored is None:
            return None
        return [job if isinstance(job, Job) else job_from_row(job) for job in stored]

    async def pause_schedule(
        self, name: str, *, paused: bool, reason: str | None, now: float
    ) -> ScheduleState:
        body = partial(tx.pause_schedule, name=name, paused=paused, reason=reason, now=now)
        return schedule_from_row(await self._write(body))

    async def schedule_jobs(self, name: str, limit: int) -> list[Job]:
        rows = await self._run(
            lambda conn: conn.execute(q.SELECT_SCHEDULE_JOBS, (name, limit)).fetchall()
        )
        return [job_from_row(row) for row in rows]

    async def scheduled(self, now: float, limit: int) -> list[Job]:
        rows = await self._run(lambda conn: reads.scheduled(conn, now, limit))
        return [job_from_row(row) for row in rows]

    # -- retention -------------------------------------------------------------------------------
    async def oldest_finished(self) -> dict[Status, float]:
        def read(conn: sqlite3.Connection) -> dict[Status, float]:
            found = {}
            for status, query in q.SELECT_OLDEST_FINISHED.items():
                (at,) = conn.execute(query).fetchone()
                if at is not None:
                    found[Status(status)] = float(at)
            return found

        return await self._run(read)

    async def prunable(
        self, cutoffs: Mapping[Status, float], kind: str | None, limit: int
    ) -> list[str]:
        body = partial(tx.prunable, cutoffs=checks.prune_cutoffs(cutoffs), kind=kind, limit=limit)
        return await self._run(body)

    async def count_prunable(self, cutoffs: Mapping[Status, float], kind: str | None) -> Pruned:
        body = partial(tx.count_prunable, cutoffs=checks.prune_cutoffs(cutoffs), kind=kind)
        return Pruned(*await self._run(body))

    async def records(self, job_ids: Sequence[str]) -> list[Record]:
        rows = await self._run(partial(tx.records, job_ids=job_ids))
        return [
            Record(
                job_from_row(job),
                [attempt_from_row(row) for row in attempts],
                [steps_sql.step_from_row(row) for row in steps],
                [event_from_row(row) for row in events],
            )
            for job, attempts, steps, events in rows
        ]

    async def prune(
        self, job_ids: Sequence[str], cutoffs: Mapping[Status, float], now: float
    ) -> Pruned:
        if not job_ids:
            return Pruned()
        body = partial(tx.prune, job_ids=job_ids, cutoffs=checks.prune_cutoffs(cutoffs), now=now)
        return Pruned(*await self._write(body, foreign_keys=False))

    async def pruned_at(self, job_id: str) -> float | None:
        row = await self._run(lambda conn: conn.execute(q.SELECT_PRUNED_AT, (job_id,)).fetchone())
        return None if row is None else float(row[0])

    async def take_lease(self, name: str, owner: str, now: float, seconds: float) -> bool:
        body = partial(tx.take_lease, name=name, owner=owner, now=now, seconds=seconds)
        return await self._write(body)

    # -- wake-ups --------------------------------------------------------------------------------
    async def wait_for_jobs(
        self, now: float, within: float, *, looked_at: float | None = None
    ) -> None:
        """Sleep `within` seconds (the poll interval of an idle worker), or less when the
        earliest queued job's `run_after` comes sooner (on the caller's clock, `now`). Never
        raises for database trouble: the caller's next claim reports it."""
        wait = within
        try:
            row = await self._run(lambda conn: conn.execute(q.NEXT_READY).fetchone())
        except StorageError as err:
            log.info("could not read when the next job is ready: %s", err)
            row = None
        ready = None if row is None else row[0]
        if ready is not None and ready > now:
            wait = min(wait, ready - now)
        elif ready is not None and looked_at is not None and ready > looked_at:
            return  # it came due between the last claim and now: claim again at once
        await asyncio.sleep(wait)


def _claimed(rows: Sequence[tx.ClaimedRow]) -> list[Claimed]:
    return [
        Claimed(job_from_row(job), None if fault is None else fault_from_row(fault))
        for job, fault in rows
    ]


if TYPE_CHECKING:

    def _is_a_store(store: SqliteStore) -> Store:
        return store  # mypy proves SqliteStore satisfies the Protocol here
