"""A deterministic picture of a working system, drawn by the Workers and Kinds screenshots and the
monitor's tests: five minutes of three kinds of jobs under a frozen clock that only the handlers
move (each advances it by its run time, so the rollup's histograms have a shape), three
registered workers (one gone, one whose row a newer jobdeck wrote with a host name full of control
characters), jobs running under their leases and a queue that has waited.

`build_system(engine, clock)` fills a fresh database; the engine must use `system_registry(clock)`
and `clock` as its clock.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from jobdeck.core import Engine, Registry, Terminal, Worker
from jobdeck.core.retry import Backoff
from jobdeck.core.system import WorkerInfo

MINUTES = 5
SLOT = 10.0
# Jobs submitted per kind in each 10-second slot: a wave, so the strip has a shape.
WAVE = (2, 3, 5, 7, 9, 8, 6, 4, 3, 2, 2, 3)
KINDS = ("mail.send", "image.resize", "report.build")
STUCK_SLOTS = 6  # the last minute: only mail.send is worked, the other two kinds wait


class MovingClock(Protocol):
    now: float

    def __call__(self) -> float: ...


class WorkPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    n: int = 0  # tells two jobs of the same run time apart (an unkeyed submit's key is its payload)
    seconds: float = Field(ge=0, le=3600)
    fail: bool = False


def system_registry(clock: MovingClock) -> Registry:
    """Three kinds whose handlers advance `clock` by the run time their payload asks for."""
    registry = Registry()

    def kind(name: str) -> None:
        @registry.kind(name, payload=WorkPayload, max_attempts=1, backoff=Backoff(0.0, 0.0))
        async def work(ctx: Any, payload: WorkPayload) -> Any:
            clock.now += payload.seconds
            if payload.fail:
                raise Terminal("the provider refused it", code="provider_refused")
            return {"took": payload.seconds}

    for name in KINDS:
        kind(name)
    return registry


def job_for(kind: str, n: int) -> dict[str, Any]:
    """Run times spread over the kind's usual range; one mail in seven fails."""
    if kind == "mail.send":
        return {"n": n, "seconds": 0.004 + (n % 9) * 0.004, "fail": n % 7 == 3}
    if kind == "image.resize":
        return {"n": n, "seconds": 0.08 + (n % 6) * 0.09, "fail": n % 23 == 5}
    return {"n": n, "seconds": 0.6 + (n % 5) * 0.8, "fail": False}


def worker(
    name: str, host: str, pid: int, version: str, concurrency: int, *kinds: str
) -> WorkerInfo:
    return WorkerInfo(
        name=name,
        host=host,
        pid=pid,
        version=version,
        started_at=0.0,
        lease=30.0,
        concurrency=concurrency,
        kinds=kinds,
    )


WORKERS = [
    worker("api-1.41876", "api-1", 41876, "0.9.0", 8, "mail.send"),
    worker("batch-2.9120", "batch-2", 9120, "0.9.0", 4),
    # A newer jobdeck's row, its host name carrying an escape sequence: shown escaped.
    worker("edge-7.77", "edge\x1b[2J-7", 77, "1.4.0-next", 2, "image.resize"),
]


async def build_system(engine: Engine, clock: MovingClock) -> dict[str, str]:
    """Five minutes of work, the last of them with report.build and image.resize left waiting
    (only mail.send is worked), then the workers and the jobs they hold; returns picks by
    name."""
    start = clock.now
    n = 0
    slots = int(MINUTES * 60 / SLOT)
    for slot in range(slots):
        clock.now = max(clock.now, start + slot * SLOT)
        for k, kind in enumerate(KINDS):
            for _ in range(max(1, WAVE[(slot + k * 3) % len(WAVE)] // (k + 1))):
                await engine.submit(kind, job_for(kind, n))
                n += 1
        stuck = slot >= slots - STUCK_SLOTS
        kinds = ["mail.send"] if stuck else []
        await Worker(engine, burst=True, concurrency=1, name="scene", kinds=kinds).run()
    clock.now = max(clock.now, start + slots * SLOT) + 2.0
    for i in range(2):  # for api-1 to hold
        await engine.submit("mail.send", job_for("mail.send", n + i))
    now = clock.now
    picks: dict[str, str] = {}
    for i, info in enumerate(WORKERS):
        started = now - (3 * 3600 + 120 * i)
        await engine.store.register_worker(replace(info, started_at=started), started)
        if i == 2:
            await engine.store.beat_worker(info.name, now - 240.0, 31, 2)  # gone 4 minutes ago
            continue
        await engine.store.beat_worker(info.name, now - 3.0 - i * 4, 214 - 90 * i, 9 - 5 * i)
        kinds = list(info.kinds) or list(KINDS)
        claimed = await engine.store.claim(info.name, kinds, 2, now, info.lease)
        for c in claimed:
            picks.setdefault(f"running:{info.name}", c.job.id)
    picks["worker"] = WORKERS[0].name
    picks["gone"] = WORKERS[2].name
    return picks
