"""PostgresStore: the `Store` of jobdeck.core.store on one PostgreSQL database, for workers on
many machines.

Each write is one transaction on one pooled asyncpg connection (bodies in `postgres_tx`); a
deadlock or serialization failure reruns it whole, as SQLite's store reruns a busy one. Claims
skip rows another claimer holds (`FOR UPDATE SKIP LOCKED`); a write that queues jobs NOTIFYs,
and `wait_for_jobs` LISTENs on a connection of its own so idle workers need not poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import asyncpg

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
from jobdeck.core.errors import NotFound, StorageError, StoreUnavailable
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
from jobdeck.core.system import (
    WORKER_FORGET_AFTER,
    RollupRow,
    WorkerInfo,
    WorkerState,
    fold_cutoffs,
)
from jobdeck.storage import checks, lookup
from jobdeck.storage.limits import limit_state_from_row
from jobdeck.storage.postgres import queries as q
from jobdeck.storage.postgres import tx
from jobdeck.storage.postgres.connection import Connection, create_pool, listener, prepare
from jobdeck.storage.postgres.errors import (
    CONFUSED,
    DRIVER_ERRORS,
    RETRYABLE,
    Target,
    parse_url,
    read_only_error,
    storage_error,
)
from jobdeck.storage.rows import (
    action_from_row,
    attempt_from_row,
    counts_from,
    event_from_row,
    fault_from_row,
    job_from_row,
    page_from,
    schedule_from_row,
)
from jobdeck.storage.sqlite.steps import step_from_row
from jobdeck.storage.system import (
    kind_counts_from,
    rollup_from_row,
    worker_from_row,
    worker_values,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRIES: Final = 5
# A submit of this many jobs or more checks that the planner's count of `jobs` is not far behind.
BULK: Final = 1000


class PostgresStore:
    """Jobs, attempts, events, faults, workers and steps in the `jobdeck` schema of one
    PostgreSQL database, shared by any number of processes on any number of hosts.

    Open it with `await PostgresStore.open(url)` or `jobdeck.storage.open_store`. Every method
    raises `StorageError` with one sentence for database or network trouble; none leaks an
    asyncpg error. `path` is the URL without its password.
    """

    def __init__(self, pool: asyncpg.Pool, target: Target, *, read_only: bool) -> None:
        self._pool = pool
        self._target = target
        self.path = target.shown
        self.read_only = read_only
        self._closed = False
        self._listener: Connection | None = None
        self._notice = asyncio.Event()
        self._cancel_notice = asyncio.Event()
        self._listening = asyncio.Lock()  # one LISTEN connection, whoever asks first opens it
        self._writing: set[asyncio.Future[Any]] = set()
        self._orphans: set[asyncio.Future[Any]] = set()
        self._connect_timeout = 10.0

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        read_only: bool = False,
        create: bool = True,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
    ) -> PostgresStore:
        """Connect to the database at `url` (postgresql://user:password@host:port/database) and
        bring its jobdeck schema up to date when writable.

        Raises StorageError when the server is unreachable, refuses the login, has no such
        database, or holds a jobdeck schema newer than this jobdeck (or none, when read-only or
        `create` is false)."""
        target = parse_url(url)
        try:
            pool = await create_pool(
                target, read_only=read_only, max_size=pool_size, connect_timeout=connect_timeout
            )
        except DRIVER_ERRORS as exc:
            raise storage_error(exc, target) from exc
        except asyncpg.ClientConfigurationError as exc:
            raise StorageError(f"{target.shown} is not a usable PostgreSQL URL ({exc}).") from exc
        store = cls(pool, target, read_only=read_only)
        store._connect_timeout = connect_timeout
        try:
            await store._read(
                lambda conn: prepare(conn, target, read_only=read_only, create=create)
            )
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        if self._closed:
            return
        if self._writing:
            await asyncio.wait(set(self._writing), timeout=10)
        self._closed = True
        listening, self._listener = self._listener, None
        try:
            if listening is not None:
                await listening.close(timeout=2)
            await asyncio.wait_for(self._pool.close(), 5)
        except (*DRIVER_ERRORS, asyncio.CancelledError) as exc:
            log.info("closing %s did not finish cleanly: %s", self.path, exc)
            self._pool.terminate()

    # -- plumbing ------------------------------------------------------------------------------
    async def _read(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `fn` on a pooled connection (each statement is its own snapshot)."""
        if self._closed:
            raise StorageError(f"the database {self.path} is already closed.")
        if self._orphans:
            await asyncio.wait(set(self._orphans))
        try:
            async with self._pool.acquire() as conn:
                try:
                    return await fn(conn)
                except CONFUSED:
                    conn.terminate()  # released closed: the pool opens a fresh one next time
                    raise
        except DRIVER_ERRORS as exc:
            raise storage_error(exc, self._target) from exc

    async def _write(
        self, fn: Callable[[Connection], Awaitable[T]], *, transaction: bool = True
    ) -> T:
        """Run `fn` inside one transaction, again from the start after a deadlock. Without
        `transaction`, `fn` makes one statement, which is a transaction of its own."""
        if self.read_only:
            raise read_only_error(self._target)

        async def in_transaction(conn: Connection) -> T:
            if not transaction:
                return await fn(conn)
            async with conn.transaction():
                return await fn(conn)

        for retry in range(RETRIES + 1):
            try:
                return await self._shielded(self._read(in_transaction))
            except StorageError as err:
                cause = err.__cause__
                if not isinstance(cause, RETRYABLE) or retry == RETRIES:
                    raise
                log.info("%s: %s; retry %d of %d", self.path, cause, retry + 1, RETRIES)
                await asyncio.sleep(0.01 * 2**retry * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")

    async def _shielded(self, write: Coroutine[Any, Any, T]) -> T:
        """Run a write to its end even when its caller is cancelled, as SQLite's store does (its
        thread finishes the transaction): a worker cancelled mid-flush must not lose a finished
        attempt whose transaction was about to commit. `close` waits for these."""
        task = asyncio.ensure_future(write)
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # Later calls wait for it, so this store still reads its own writes in order.
            self._orphans.add(task)
            task.add_done_callback(self._orphans.discard)
            raise

    # -- writes --------------------------------------------------------------------------------
    async def insert(self, jobs: Sequence[Job]) -> list[Job]:
        checks.new_jobs(jobs)
        if not jobs:
            return []
        if all(job.status is Status.QUEUED for job in jobs):
            # The usual submit: one statement, one round trip (see tx.insert_queued).
            stored = await self._write(lambda conn: tx.insert_queued(conn, jobs), transaction=False)
        else:
            stored = await self._write(lambda conn: tx.insert(conn, jobs))
        if len(jobs) >= BULK:
            await self._count_after_bulk(len(jobs))
        return stored

    async def _count_after_bulk(self, added: int) -> None:
        """After a batch larger than `jobs` was as the planner last counted it (a new database,
        or a burst into a quiet one), ANALYZE it, as PostgreSQL's manual advises after a bulk
        load. Until autovacuum comes round (up to a minute), the planner takes the table for as
        small as it last saw it: the workers' prepared turns keep plans made on an empty table,
        a sequential scan of `jobs` to find the jobs they finished and the ones they claim, and
        a fresh plan walks `jobs_claim` by bitmap and sorts every queued job. Measured on a new
        database with 20,000 jobs submitted at once (`bench.pg_peers`), the server spent 0.68 ms
        a job instead of 0.15. ANALYZE also drops those cached plans. Best effort: a role that does
        not own `jobs` gets a warning from the server and nothing else."""
        try:
            counted = await self._read(lambda conn: conn.fetchval(q.JOBS_COUNTED))
            if counted < added:
                await self._read(lambda conn: conn.execute(q.ANALYZE_JOBS))
        except StorageError as err:
            log.info("could not refresh the statistics of jobs: %s", err)

    async def claim(
        self, worker: str, kinds: Sequence[str], limit: int, now: float, lease_seconds: float
    ) -> list[Claimed]:
        if limit <= 0:
            return []
        expires = now + lease_seconds
        return await self._write(
            lambda conn: tx.claim(
                conn, worker=worker, kinds=kinds, limit=limit, now=now, expires=expires
            )
        )

    async def apply(self, changes: Sequence[Change]) -> list[bool]:
        checks.changes(changes)
        if not changes:
            return []
        return await self._write(lambda conn: tx.apply(conn, changes))

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
        if tx.one_statement(changes):
            # The usual turn, attempts that ended and a claim, is one statement: one round trip,
            # and the events lock ends with the statement instead of a COMMIT's round trip later.
            applied, claimed, again = await self._write(
                lambda conn: tx.finish_and_claim(
                    conn, changes, worker=worker, kinds=kinds, limit=limit, now=now,
                    expires=expires,
                ),
                transaction=False,
            )  # fmt: skip
            if again:  # an armed fault or a kind's limit: the claim that obeys them
                claimed = await self._write(
                    lambda conn: tx.claim(
                        conn, worker=worker, kinds=kinds, limit=limit, now=now, expires=expires
                    )
                )
            return applied, claimed

        async def both(conn: Connection) -> tuple[list[bool], list[Claimed]]:
            # One append for both parts, after every row lock either takes: a claim that waits
            # for a kind's limit row never holds the events lock another claim needs.
            written = tx.Written()
            applied = await tx.apply_rows(conn, written, changes) if changes else []
            claimed: list[Claimed] = []
            if limit > 0:
                claimed = await tx.claim_rows(
                    conn, written, worker=worker, kinds=kinds, limit=limit, now=now, expires=expires
                )
            await written.append(conn)
            return applied, claimed

        return await self._write(both)

    async def heartbeat(
        self, worker: str, job_ids: Sequence[str], lease_expires_at: float, now: float
    ) -> set[str]:
        """Extend the leases `worker` holds that have not yet ended at `now` (a lease that ended is
        lost, even if nobody has recovered the job yet); returns the ids it still holds."""
        if not job_ids:
            return set()
        ids = sorted(set(job_ids))
        rows = await self._write(
            lambda conn: conn.fetch(q.HEARTBEAT, ids, worker, lease_expires_at, now)
        )
        return {str(row[0]) for row in rows}

    async def expired(self, now: float, limit: int) -> list[Job]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_EXPIRED, now, limit))
        return [job_from_row(tuple(row)) for row in rows]

    async def arm_fault(self, fault: Fault) -> Fault:
        return await self._write(lambda conn: tx.arm_fault(conn, fault))

    async def touch_worker(self, worker: str, now: float) -> None:
        await self._write(lambda conn: conn.execute(q.TOUCH_WORKER, worker, now))

    async def forget_worker(self, worker: str) -> None:
        await self._write(lambda conn: conn.execute(q.DELETE_WORKER, worker))

    # -- the system ----------------------------------------------------------------------------
    async def register_worker(self, info: WorkerInfo, now: float) -> None:
        v = worker_values(info, now)
        args = (v["name"], now, v["host"], v["pid"], v["version"], v["started_at"], v["lease"])
        await self._write(
            lambda conn: conn.execute(q.REGISTER_WORKER, *args, v["concurrency"], v["kinds"])
        )

    async def beat_worker(self, worker: str, now: float, done_5m: int, failed_5m: int) -> bool:
        status = await self._write(
            lambda conn: conn.execute(q.BEAT_WORKER, worker, now, done_5m, failed_5m)
        )
        return bool(status == "UPDATE 1")

    async def fold_rollup(self, now: float) -> bool:
        if self.read_only:
            raise read_only_error(self._target)
        cut = fold_cutoffs(now)
        before = now - WORKER_FORGET_AFTER
        if not await self._read(lambda conn: conn.fetchval(q.NEEDS_FOLD, *cut, before)):
            return False
        return await self._write(lambda conn: tx.fold(conn, now))

    async def workers(self, now: float) -> list[WorkerState]:
        since = now - WORKER_FORGET_AFTER
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_WORKERS, since))
        return [worker_from_row(tuple(row)[:11], int(row[11])) for row in rows]

    async def rollup(self, since: float, kind: str | None = None) -> list[RollupRow]:
        if since > 0:
            rows = await self._read(lambda conn: conn.fetch(q.SELECT_ROLLUP, since, kind))
        else:
            rows = await self._read(lambda conn: conn.fetch(q.SELECT_ROLLUP_ALL, kind))
        return [rollup_from_row(tuple(row)) for row in rows]

    async def rollup_sums(
        self, edges: Sequence[float], kind: str | None = None, *, per_kind: bool = True
    ) -> list[RollupRow]:
        if len(edges) < 2:
            return []
        sql = q.SUM_ROLLUP_PER_KIND if per_kind else q.SUM_ROLLUP
        spans = sorted(edges)
        rows = await self._read(lambda conn: conn.fetch(sql, spans, kind))
        return [rollup_from_row(tuple(row)) for row in rows]

    async def kind_counts(self) -> dict[str, dict[Status, int]]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_KIND_COUNTS))
        return kind_counts_from(tuple(row) for row in rows)

    async def oldest_queued(self) -> dict[str, float]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_OLDEST_QUEUED))
        return {str(row[0]): float(row[1]) for row in rows if row[1] is not None}

    # -- limits --------------------------------------------------------------------------------
    async def declare_limits(self, worker: str, limits: Sequence[KindLimits], now: float) -> None:
        if limits:
            await self._write(lambda conn: tx.declare_limits(conn, worker, limits, now))

    async def limits(self, now: float) -> list[LimitState]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_LIMITS, now))
        return [limit_state_from_row(tuple(row)) for row in rows]

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, job_id: str) -> Job:
        row = await self._read(lambda conn: conn.fetchrow(q.SELECT_JOB, job_id))
        if row is None:
            raise NotFound(f"no job with id {job_id}.")
        return job_from_row(tuple(row))

    async def find(self, prefix: str) -> Job:
        """The job whose id is `prefix`, or the one job whose id starts or ends with it (at least
        four characters). Raises NotFound, or InvalidInput when it is short or ambiguous."""
        lookup.check_fragment(prefix)

        async def body(conn: Connection) -> Job | set[str]:
            exact = await conn.fetchrow(q.SELECT_JOB, prefix)
            if exact is not None:
                return job_from_row(tuple(exact))
            rows = await conn.fetch(q.SELECT_IDS_IN_RANGE, prefix, prefix + lookup.ID_MAX)
            rows += await conn.fetch(q.SELECT_IDS_LIKE, "%" + lookup.escape_like(prefix))
            ids = {str(row[0]) for row in rows}
            if len(ids) == 1:
                return job_from_row(tuple(await conn.fetchrow(q.SELECT_JOB, ids.pop())))
            return ids

        found = await self._read(body)
        if isinstance(found, Job):
            return found
        lookup.not_one(prefix, found)

    async def attempts(self, job_id: str) -> list[Attempt]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_ATTEMPTS, job_id))
        return [attempt_from_row(tuple(row)) for row in rows]

    async def reruns(self, job_id: str) -> list[Job]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_RERUNS, job_id))
        return [job_from_row(tuple(row)) for row in rows]

    async def counts(self) -> dict[Status, int]:
        return counts_from(await self._read(lambda conn: conn.fetch(q.SELECT_COUNTS)))

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
        start = lookup.page_start(after, newest_first)
        pattern = lookup.like_anywhere(text)
        sql = q.PAGE_NEWEST if newest_first else q.PAGE_OLDEST
        args = (Status(status).value, start, kind, pattern, limit + 1)
        return page_from(await self._read(lambda conn: conn.fetch(sql, *args)), limit)

    async def failure_groups(self) -> list[tuple[str, int]]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_FAILURE_GROUPS))
        return [(str(code), int(n)) for code, n in rows]

    async def failed_with(self, code: str, limit: int) -> list[Job]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_FAILED_WITH, code, limit))
        return [job_from_row(tuple(row)) for row in rows]

    async def events(self, since: int = 0, limit: int = 500) -> list[Event]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_EVENTS, since, limit))
        return [event_from_row(tuple(row)) for row in rows]

    async def last_cursor(self) -> int:
        return int(await self._read(lambda conn: conn.fetchval(q.SELECT_LAST_CURSOR)))

    async def faults(self) -> list[Fault]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_ARMED_FAULTS))
        return [fault_from_row(tuple(row)) for row in rows]

    async def workers_alive(self, now: float, within: float) -> int:
        return int(await self._read(lambda conn: conn.fetchval(q.COUNT_WORKERS_SEEN, now, within)))

    # -- durable steps ---------------------------------------------------------------------------
    async def steps(self, job_id: str) -> list[Step]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_STEPS, job_id))
        return [step_from_row(tuple(row)) for row in rows]

    async def record_step(self, job: Job, step: Step) -> bool:
        return await self._write(lambda conn: tx.record_step(conn, job, step))

    async def record_compensation(
        self,
        job: Job,
        name: str,
        status: CompensationStatus,
        attempts: int,
        reason: Reason | None,
        at: float,
    ) -> bool:
        return await self._write(
            lambda conn: tx.record_compensation(conn, job, name, status, attempts, reason, at)
        )

    async def insert_rerun(self, job: Job, steps: Sequence[Step]) -> Job:
        checks.new_rerun(job)
        return await self._write(lambda conn: tx.insert_with_steps(conn, job, steps))

    # -- operator control ----------------------------------------------------------------------
    async def cancel_queued(self, changes: Sequence[Change], action: Action | None) -> list[bool]:
        checks.changes(changes)
        return await self._write(lambda conn: tx.cancel_queued(conn, changes, action))

    async def request_cancel(
        self, requests: Sequence[CancelRequest], action: Action | None
    ) -> list[bool]:
        return await self._write(lambda conn: tx.request_cancel(conn, requests, action))

    async def cancel_requests(self, job_ids: Sequence[str]) -> list[CancelRequest]:
        if not job_ids:
            return []
        ids = sorted(set(job_ids))
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_CANCELS, ids))
        return [CancelRequest(*tuple(row)) for row in rows]

    async def wait_for_cancels(self, within: float) -> None:
        """Return when a cancel request is stored (NOTIFY on the cancel channel), or after
        `within` seconds. Never raises for database trouble."""
        if (self._listener is None or self._listener.is_closed()) and await self._listen():
            return  # a request stored before LISTEN took effect would be missed: look now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cancel_notice.wait(), within)
        self._cancel_notice.clear()

    async def pause_kind(
        self, kind: str, *, paused: bool, reason: str | None, action: Action
    ) -> bool:
        return await self._write(lambda conn: tx.pause_kind(conn, kind, paused, reason, action))

    async def paused_kinds(self) -> list[PausedKind]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_PAUSED))
        return [PausedKind(*tuple(row)) for row in rows]

    async def kind_seen(self, kind: str) -> bool:
        return bool(await self._read(lambda conn: conn.fetchval(q.KIND_SEEN, kind)))

    async def record_action(self, action: Action) -> None:
        await self._write(lambda conn: tx.record_action(conn, action))

    async def actions(self, *, after_id: int, since: int, limit: int) -> list[Action]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_ACTIONS, after_id, since, limit))
        return [action_from_row(tuple(row)) for row in rows]

    # -- wake-ups ------------------------------------------------------------------------------
    @property
    def notifies(self) -> bool:
        return True

    # -- periodic schedules ----------------------------------------------------------------------
    async def declare_schedules(
        self, entries: Sequence[tuple[str, str, str, str]], now: float
    ) -> list[ScheduleState]:
        return await self._write(lambda conn: tx.declare_schedules(conn, entries, now))

    async def schedules(self) -> list[ScheduleState]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_SCHEDULES))
        return [schedule_from_row(tuple(row)) for row in rows]

    async def make_ticks(
        self, name: str, last_tick: float, ticks: Sequence[tuple[float, Job]]
    ) -> list[Job] | None:
        if not ticks:
            return []
        checks.new_jobs([job for _, job in ticks])
        return await self._write(lambda conn: tx.make_ticks(conn, name, last_tick, ticks))

    async def pause_schedule(
        self, name: str, *, paused: bool, reason: str | None, now: float
    ) -> ScheduleState:
        return await self._write(lambda conn: tx.pause_schedule(conn, name, paused, reason, now))

    async def schedule_jobs(self, name: str, limit: int) -> list[Job]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_SCHEDULE_JOBS, name, limit))
        return [job_from_row(tuple(row)) for row in rows]

    async def scheduled(self, now: float, limit: int) -> list[Job]:
        rows = await self._read(lambda conn: conn.fetch(q.SELECT_SCHEDULED, now, limit))
        return [job_from_row(tuple(row)) for row in rows]

    # -- retention -------------------------------------------------------------------------------
    async def oldest_finished(self) -> dict[Status, float]:
        async def read(conn: Connection) -> dict[Status, float]:
            found = {}
            for status in (Status.DONE, Status.FAILED):
                at = await conn.fetchval(q.SELECT_OLDEST_FINISHED, status.value)
                if at is not None:
                    found[status] = float(at)
            return found

        return await self._read(read)

    async def prunable(
        self, cutoffs: Mapping[Status, float], kind: str | None, limit: int
    ) -> list[str]:
        named = checks.prune_cutoffs(cutoffs)

        async def read(conn: Connection) -> list[str]:
            found: list[tuple[float, str]] = []
            for status, before in named.items():
                rows = await conn.fetch(q.SELECT_PRUNABLE, status, before, kind, limit)
                found += [(row[1], row[0]) for row in rows]
            return [job_id for _, job_id in sorted(found)[:limit]]

        return await self._read(read)

    async def count_prunable(self, cutoffs: Mapping[Status, float], kind: str | None) -> Pruned:
        named = checks.prune_cutoffs(cutoffs)

        async def read(conn: Connection) -> Pruned:
            total = Pruned()
            for status, before in named.items():
                row = await conn.fetchrow(q.COUNT_PRUNABLE, status, before, kind)
                total += Pruned(*(int(n) for n in row))
            return total

        return await self._read(read)

    async def records(self, job_ids: Sequence[str]) -> list[Record]:
        async def read(conn: Connection) -> list[Record]:
            found = []
            for job_id in job_ids:
                job = await conn.fetchrow(q.SELECT_JOB, job_id)
                if job is None:
                    continue
                attempts = await conn.fetch(q.SELECT_ATTEMPTS, job_id)
                steps = await conn.fetch(q.SELECT_STEPS, job_id)
                events = await conn.fetch(q.SELECT_JOB_EVENTS, job_id)
                found.append(
                    Record(
                        job_from_row(tuple(job)),
                        [attempt_from_row(tuple(row)) for row in attempts],
                        [step_from_row(tuple(row)) for row in steps],
                        [event_from_row(tuple(row)) for row in events],
                    )
                )
            return found

        return await self._read(read)

    async def prune(
        self, job_ids: Sequence[str], cutoffs: Mapping[Status, float], now: float
    ) -> Pruned:
        if not job_ids:
            return Pruned()
        named = checks.prune_cutoffs(cutoffs)
        return Pruned(*await self._write(lambda conn: tx.prune(conn, job_ids, named, now)))

    async def pruned_at(self, job_id: str) -> float | None:
        at = await self._read(lambda conn: conn.fetchval(q.SELECT_PRUNED_AT, job_id))
        return None if at is None else float(at)

    async def take_lease(self, name: str, owner: str, now: float, seconds: float) -> bool:
        status = await self._write(
            lambda conn: conn.execute(q.TAKE_LEASE, name, owner, now + seconds, now)
        )
        return bool(status == "INSERT 0 1")

    # -- wake-ups --------------------------------------------------------------------------------
    async def wait_for_jobs(
        self, now: float, within: float, *, looked_at: float | None = None
    ) -> None:
        """Return when another process queued a job (NOTIFY), when the earliest queued job's
        `run_after` comes (on the caller's clock, `now`), or after `within` seconds. Never
        raises for database trouble: the caller's next claim reports it."""
        if self._notice.is_set():
            self._notice.clear()
            return
        if self._listener is None or self._listener.is_closed():
            if await self._listen():
                return  # a job queued before LISTEN took effect would be missed: claim again
            await asyncio.sleep(within)
            return
        wait = within
        try:
            ready = await self._read(lambda conn: conn.fetchval(q.NEXT_READY))
        except StorageError as err:  # the next claim reports it; a wait only waits
            log.info("could not read when the next job is ready: %s", err)
            ready = None
        if ready is not None and ready > now:
            wait = min(wait, ready - now)
        elif ready is not None and looked_at is not None and ready > looked_at:
            return  # it came due between the last claim and now: claim again at once
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._notice.wait(), wait)
        self._notice.clear()

    async def _listen(self) -> bool:
        """Open the LISTEN connection; False (logged) when the server cannot be reached."""
        async with self._listening:
            if self._listener is not None and not self._listener.is_closed():
                return True
            return await self._open_listener()

    async def _open_listener(self) -> bool:
        if self._closed:
            return False
        try:
            conn = await listener(self._target, connect_timeout=self._connect_timeout)
        except DRIVER_ERRORS as exc:
            self._cannot_listen(exc)
            return False
        try:
            await conn.add_listener(q.CHANNEL, self._on_notice)
            await conn.add_listener(q.CANCEL_CHANNEL, self._on_cancel)
        except DRIVER_ERRORS as exc:
            conn.terminate()
            self._cannot_listen(exc)
            return False
        self._listener = conn
        return True

    def _cannot_listen(self, exc: BaseException) -> None:
        """Log why LISTEN failed; an outage only at info level, since the caller's next claim
        or read reports it (once), and the next wait tries to listen again."""
        error = storage_error(exc, self._target)
        level = logging.INFO if isinstance(error, StoreUnavailable) else logging.WARNING
        log.log(level, "cannot listen for new jobs: %s", error)

    def _on_notice(self, *_: object) -> None:
        self._notice.set()

    def _on_cancel(self, *_: object) -> None:
        self._cancel_notice.set()


if TYPE_CHECKING:

    def _is_a_store(store: PostgresStore) -> Store:
        return store  # mypy proves PostgresStore satisfies the Protocol here
