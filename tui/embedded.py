"""`jobdeck demo`'s engine room: workers and the demo workload run inside the monitor's loop."""

from __future__ import annotations

import asyncio
import logging

from jobdeck.core import Engine, Worker
from jobdeck.core.demo import workload

log = logging.getLogger("jobdeck.demo")


class EmbeddedWorkers:
    """Start `count` workers (and the demo workload) as tasks; `stop()` ends them all."""

    def __init__(self, engine: Engine, count: int, *, workload: bool = True) -> None:
        self.engine = engine
        self.count = count
        self.with_workload = workload
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[object]] = []

    def start(self) -> None:
        for i in range(self.count):
            # A short grace: quitting the demo hands unfinished jobs back to the queue quickly.
            worker = Worker(self.engine, concurrency=8, lease=30, grace=1.0)
            self._tasks.append(asyncio.create_task(worker.run(self._stop), name=f"demo-worker-{i}"))
        if self.with_workload:
            self._tasks.append(
                asyncio.create_task(workload(self.engine, self._stop), name="demo-workload")
            )

    async def stop(self) -> None:
        self._stop.set()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("a demo task ended with an error: %s", result)
        self._tasks.clear()
