"""A database every read-only CLI test shares, built once in-process with the engine.

It holds one job of each shape the read commands print: done, denied, retried then done,
failed by an injected fault, a finished rerun pair, and one job still queued.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobdeck.core import Engine, Worker, demo_registry
from jobdeck.storage import open_store
from tests.cli.harness import snapshot


@dataclass(frozen=True)
class Populated:
    db: Path
    echo: str  # done on attempt 1
    denied: str  # demo.charge without an id: failed by the missing_id gate
    flaky: str  # one retryable failure, then done on attempt 2
    faulted: str  # failed by an armed terminal fault
    charge: str  # done; `charge_rerun` reran it
    charge_rerun: str
    queued: str  # submitted after the drain: still queued

    @property
    def all(self) -> list[str]:
        return [
            self.echo,
            self.denied,
            self.flaky,
            self.faulted,
            self.charge,
            self.charge_rerun,
            self.queued,
        ]


async def _build(db: Path) -> Populated:
    store = await open_store(str(db))
    engine = Engine(store, demo_registry())

    async def drain() -> None:
        await Worker(engine, concurrency=4, burst=True, poll=0.01, lease=10).run()

    try:
        echo = await engine.submit("demo.echo", {"n": 1})
        denied = await engine.submit("demo.charge", {"amount": 5, "currency": "EUR"})
        flaky = await engine.submit("demo.flaky", {"fail_times": 1})
        faulted = await engine.submit("demo.sleep", {"seconds": 0})
        await engine.arm_fault(job_id=faulted.id, reason="the operator said no")
        charge = await engine.submit("demo.charge", {"id": "c1", "amount": 5, "currency": "EUR"})
        await drain()
        rerun = await engine.rerun(charge.id)
        await drain()
        queued = await engine.submit("demo.echo", {"n": 2})
    finally:
        await store.close()
    return Populated(db, echo.id, denied.id, flaky.id, faulted.id, charge.id, rerun.id, queued.id)


@pytest.fixture(scope="session")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Populated:
    """Shared by tests that only read: never write to it."""
    db = tmp_path_factory.mktemp("populated") / "jobs.db"
    return asyncio.run(_build(db))


@pytest.fixture
def scratch(populated: Populated, tmp_path: Path) -> Populated:
    """A private copy of the populated database, for tests that write or might."""
    db = tmp_path / "jobs.db"
    for suffix in ("", "-wal"):
        source = Path(f"{populated.db}{suffix}")
        if source.exists():
            shutil.copy(source, f"{db}{suffix}")
    assert snapshot(db) == snapshot(populated.db)
    return Populated(**(vars(populated) | {"db": db}))
