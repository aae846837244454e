"""The PgQueuer side: a PgQueuer on one asyncpg connection to the database the environment
names, with a no-op entrypoint and one that records when it started. Its worker loads the factory
by name (`python -m bench.pgqueuer_app BATCH_SIZE [MAX_CONCURRENT_TASKS]`, which is `pgq run
bench.pgqueuer_app:create --batch-size BATCH_SIZE [--max-concurrent-tasks N]`; without a cap a
PgQueuer worker keeps dequeuing however many of its jobs are still running)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pgqueuer
from pgqueuer import Job, PgQueuer

from bench.stamps import record_start

URL_ENV = "JOBDECK_BENCH_PGQUEUER_URL"


@asynccontextmanager
async def create() -> AsyncIterator[PgQueuer]:
    conn = await asyncpg.connect(os.environ[URL_ENV])
    manager = PgQueuer.from_asyncpg_connection(conn)

    @manager.entrypoint("noop")
    async def noop(job: Job) -> None:
        return None

    @manager.entrypoint("stamp")
    async def stamp(job: Job) -> None:
        record_start(int(job.payload or b"0"))

    try:
        yield manager
    finally:
        await conn.close()


def main(argv: list[str]) -> None:
    """What `pgq run bench.pgqueuer_app:create --batch-size N [--max-concurrent-tasks M]` does,
    through PgQueuer's own `run` (its command line trips over its log-level option with the
    typer installed here)."""
    cap = int(argv[1]) if len(argv) > 1 else None
    asyncio.run(pgqueuer.run(create, batch_size=int(argv[0]), max_concurrent_tasks=cap))


if __name__ == "__main__":
    main(sys.argv[1:])
