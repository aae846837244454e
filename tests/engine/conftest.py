"""The engine suite runs once per backend: a SQLite file in tmp_path, and a fresh PostgreSQL
database (skipped, with the reason, when no PostgreSQL can be started)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobdeck.core import Engine, Worker, demo_registry
from jobdeck.core.store import Store
from jobdeck.storage import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where this test's database lives: a file path, or a postgresql:// URL."""
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    s = await open_store(db_url)
    yield s
    await s.close()


@pytest.fixture
def engine(store: Store) -> Engine:
    return Engine(store, demo_registry())


async def drain(engine: Engine, **kw: object) -> None:
    """Run a burst worker until nothing is queued or running."""
    opts: dict = {"concurrency": 4, "burst": True, "poll": 0.01, "lease": 10.0} | kw
    await Worker(engine, **opts).run()
