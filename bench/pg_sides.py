"""The three queues on PostgreSQL as bench.pg_peers drives them: jobdeck, procrastinate and
PgQueuer, each with its own schema in its own database, its documented bulk enqueue, its single
enqueue, and its own worker command.

A side has two connections of its own: the submitter's (through the client link, as a web app on
another host would have) and the observer's (direct, for the bench's polls, outside the counts).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.jobdeck_runs import HANDLERS, REPO, child_env
from bench.kinds import NOOP, STAMP, registry
from bench.stamps import STAMPS_ENV, read_starts
from jobdeck.core.contract import Status
from jobdeck.core.engine import Engine
from jobdeck.storage import open_store

BATCH = 10_000  # jobs per bulk call, the same for all three


class Side:
    """One queue: `prepare` its schema, `open` its submitter, submit, count what is left, and
    name its worker command. Subclasses fill in the queue's own calls."""

    name = ""

    def __init__(self, direct: str, client: str, worker: str, folder: Path) -> None:
        self.direct = direct  # URL straight to the server: schema and the bench's polls
        self.client = client  # URL through the client link: the submitter
        self.worker = worker  # URL through the worker link: the worker processes
        # One file per database: a round's starts never mix with another's.
        self.stamps = folder / f"{urlsplit(direct).path.strip('/')}-stamps.txt"
        self.observer: Any = None
        self.concurrency = 1

    async def prepare(self) -> None:
        """Install the queue's schema into its (fresh, empty) database."""
        raise NotImplementedError

    async def open(self) -> None:
        self.observer = await asyncpg.connect(self.direct)

    async def close(self) -> None:
        if self.observer is not None:
            await self.observer.close()

    async def submit_bulk(self, numbers: Sequence[int]) -> None:
        raise NotImplementedError

    async def submit_one(self, n: int, *, stamp: bool = False) -> None:
        raise NotImplementedError

    async def left(self) -> int:
        """Jobs not yet finished: queued or running."""
        raise NotImplementedError

    async def finished(self) -> int:
        """Jobs that ran to success (checked once the workers have stopped)."""
        raise NotImplementedError

    async def starts(self) -> dict[int, float]:
        """When each stamp job's task started, by its number."""
        return read_starts(self.stamps)

    def worker_command(self, concurrency: int) -> list[str]:
        raise NotImplementedError

    def worker_env(self) -> dict[str, str]:
        return child_env() | {STAMPS_ENV: str(self.stamps)}


class JobdeckSide(Side):
    name = "jobdeck"

    async def prepare(self) -> None:
        store = await open_store(self.direct)
        await store.close()

    async def open(self) -> None:
        await super().open()
        self.store = await open_store(self.client)
        self.reader = await open_store(self.direct, read_only=True)  # the bench's polls
        self.engine = Engine(self.store, registry)
        self.stamp_ids: dict[int, str] = {}

    async def close(self) -> None:
        await self.store.close()
        await self.reader.close()
        await super().close()

    async def submit_bulk(self, numbers: Sequence[int]) -> None:
        for i in range(0, len(numbers), BATCH):
            await self.engine.submit_many(NOOP, [{"n": n} for n in numbers[i : i + BATCH]])

    async def submit_one(self, n: int, *, stamp: bool = False) -> None:
        job = await self.engine.submit(STAMP if stamp else NOOP, {"n": n})
        if stamp:
            self.stamp_ids[n] = job.id

    async def left(self) -> int:
        counts = await self.reader.counts()
        return counts[Status.QUEUED] + counts[Status.RUNNING]

    async def finished(self) -> int:
        return (await self.reader.counts())[Status.DONE]

    async def starts(self) -> dict[int, float]:
        starts: dict[int, float] = {}
        for n, job_id in self.stamp_ids.items():
            result = (await self.reader.get(job_id)).result
            at = result.get("started_at") if isinstance(result, dict) else None
            if isinstance(at, float):
                starts[n] = at
        return starts

    def worker_command(self, concurrency: int) -> list[str]:
        return [sys.executable, "-m", "jobdeck.tui", "--db", self.worker, "--handlers", HANDLERS,
                "worker", "--concurrency", str(concurrency)]  # fmt: skip


class ProcrastinateSide(Side):
    name = "procrastinate"

    async def prepare(self) -> None:
        from bench.procrastinate_app import make_app

        app = make_app(self.direct)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()

    async def open(self) -> None:
        await super().open()
        from bench import procrastinate_app

        self.app = procrastinate_app.make_app(self.client)
        await self.app.open_async()
        # The module's tasks are registered on its own App; the same task names on ours.
        self.noop = self.app.configure_task("noop")
        self.stamp = self.app.configure_task("stamp")

    async def close(self) -> None:
        await self.app.close_async()
        await super().close()

    async def submit_bulk(self, numbers: Sequence[int]) -> None:
        for i in range(0, len(numbers), BATCH):
            kwargs: list[dict[str, Any]] = [{"n": n} for n in numbers[i : i + BATCH]]
            await self.noop.batch_defer_async(*kwargs)

    async def submit_one(self, n: int, *, stamp: bool = False) -> None:
        await (self.stamp if stamp else self.noop).defer_async(n=n)

    async def left(self) -> int:
        return int(
            await self.observer.fetchval(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            )
        )

    async def finished(self) -> int:
        return int(
            await self.observer.fetchval(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
            )
        )

    def worker_command(self, concurrency: int) -> list[str]:
        self.concurrency = concurrency
        return [sys.executable, "-m", "procrastinate", "--app", "bench.procrastinate_app.app",
                "worker", "--concurrency", str(concurrency)]  # fmt: skip

    def worker_env(self) -> dict[str, str]:
        from bench.procrastinate_app import POOL_ENV, URL_ENV

        pool = str(self.concurrency + 1)
        return super().worker_env() | {URL_ENV: self.worker, POOL_ENV: pool}


class PgqueuerSide(Side):
    name = "pgqueuer"

    async def prepare(self) -> None:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "pgqueuer", "--pg-dsn", self.direct, "install"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgq install failed: {done.stderr.strip()[-500:]}")

    async def open(self) -> None:
        await super().open()
        from pgqueuer import AsyncpgDriver, Queries

        self.conn = await asyncpg.connect(self.client)
        self.queries = Queries(AsyncpgDriver(self.conn))

    async def close(self) -> None:
        await self.conn.close()
        await super().close()

    async def submit_bulk(self, numbers: Sequence[int]) -> None:
        for i in range(0, len(numbers), BATCH):
            chunk = numbers[i : i + BATCH]
            await self.queries.enqueue(
                ["noop"] * len(chunk), [str(n).encode() for n in chunk], [0] * len(chunk)
            )

    async def submit_one(self, n: int, *, stamp: bool = False) -> None:
        await self.queries.enqueue("stamp" if stamp else "noop", str(n).encode())

    async def left(self) -> int:
        return int(await self.observer.fetchval("SELECT count(*) FROM pgqueuer"))

    async def finished(self) -> int:
        # A finished job leaves the queue table for the log, with its outcome.
        return int(
            await self.observer.fetchval(
                "SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'"
            )
        )

    def worker_command(self, concurrency: int) -> list[str]:
        # At most `concurrency` jobs in flight, as the others: PgQueuer's max_concurrent_tasks,
        # which must be at least twice its batch size, so a dequeue takes half of it.
        batch = max(1, concurrency // 2)
        cap = max(concurrency, 2 * batch)
        return [sys.executable, "-m", "bench.pgqueuer_app", str(batch), str(cap)]

    def worker_env(self) -> dict[str, str]:
        from bench.pgqueuer_app import URL_ENV

        return super().worker_env() | {URL_ENV: self.worker}


class UncappedPgqueuerSide(PgqueuerSide):
    """PgQueuer as it runs by default: no cap on the jobs in flight, each dequeue taking
    `concurrency` jobs whether or not the ones before have finished."""

    name = "pgqueuer-uncapped"

    def worker_command(self, concurrency: int) -> list[str]:
        return [sys.executable, "-m", "bench.pgqueuer_app", str(concurrency)]


SIDES: dict[str, type[Side]] = {
    "jobdeck": JobdeckSide,
    "procrastinate": ProcrastinateSide,
    "pgqueuer": PgqueuerSide,
    "pgqueuer-uncapped": UncappedPgqueuerSide,
}


def start_workers(
    side: Side, count: int, concurrency: int, log: Path
) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes of `side`, their output appended to `log`."""
    out = log.open("ab")
    return [
        subprocess.Popen(
            side.worker_command(concurrency),
            cwd=REPO,
            env=side.worker_env(),
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def stop_workers(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    import signal

    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
