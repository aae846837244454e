"""Storage micro-benchmark: SqliteStore alone, no engine, no handlers.

    python bench/storage_micro.py [--jobs 100000] [--batch 10000] [--run 20000] [--run-batch 50]

Times `insert` of --jobs jobs in batches of --batch, then `claim` + `apply` (queued -> running ->
done) of --run jobs in batches of --run-batch, on a fresh file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from jobdeck.core.contract import Job, Succeed, attempt_outcome, transition
from jobdeck.core.store import Change
from jobdeck.storage import open_store


def make_jobs(n: int) -> list[Job]:
    return [
        Job(
            id=f"{i:026d}",
            kind="resize" if i % 2 else "email",
            payload={"n": i, "name": f"image-{i}.png", "size": [640, 480]},
            idempotency_key=f"key-{i}",
            created_at=1_700_000_000.0,
            updated_at=1_700_000_000.0,
            run_after=1_700_000_000.0,
        )
        for i in range(n)
    ]


async def bench(jobs: int, batch: int, run: int, run_batch: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(str(Path(folder) / "bench.db"))
        try:
            built = make_jobs(jobs)
            started = time.perf_counter()
            for i in range(0, jobs, batch):
                await store.insert(built[i : i + batch])
            took = time.perf_counter() - started
            print(
                f"insert  {jobs:>7} jobs, batches of {batch:>5}: "
                f"{took:6.2f} s  {jobs / took:>9,.0f} jobs/s"
            )

            now = 1_700_000_001.0
            done = claim_s = apply_s = 0.0
            while done < run:
                t0 = time.perf_counter()
                claimed = await store.claim("bench", [], run_batch, now, 30.0)
                t1 = time.perf_counter()
                if not claimed:
                    break
                changes = []
                for c in claimed:
                    event = Succeed(result={"ok": True}, at=now)
                    after = transition(c.job, event)
                    changes.append(Change(c.job, after, attempt_outcome(event)))
                t2 = time.perf_counter()
                applied = await store.apply(changes)
                t3 = time.perf_counter()
                assert all(applied)
                claim_s += t1 - t0
                apply_s += t3 - t2
                done += len(claimed)
            both = claim_s + apply_s
            print(
                f"claim+apply {int(done):>5} jobs, batches of {run_batch:>3}: {both:6.2f} s  "
                f"{done / both:>9,.0f} jobs/s  (claim {claim_s:.2f} s, apply {apply_s:.2f} s)"
            )
            print(f"counts: {await store.counts()}")
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--run", type=int, default=20_000)
    parser.add_argument("--run-batch", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(bench(args.jobs, args.batch, args.run, args.run_batch))


if __name__ == "__main__":
    main()
