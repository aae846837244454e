from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobdeck.core import Engine, Worker, demo_registry
from jobdeck.core.store import Store
from jobdeck.storage import open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(str(tmp_path / "jobs.db"))
    yield s
    await s.close()


@pytest.fixture
def engine(store: Store) -> Engine:
    return Engine(store, demo_registry())


async def drain(engine: Engine, **kw: object) -> None:
    """Run a burst worker until nothing is queued or running."""
    opts: dict = {"concurrency": 4, "burst": True, "poll": 0.01, "lease": 10.0} | kw
    await Worker(engine, **opts).run()
