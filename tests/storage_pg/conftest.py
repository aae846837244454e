"""PostgreSQL storage tests: each test has a migrated, empty database of its own (`pg_url`, from
tests/conftest.py), skipped with the reason when no PostgreSQL can be started."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest

from jobdeck.storage.postgres.store import PostgresStore


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresStore]:
    s = await PostgresStore.open(pg_url)
    yield s
    await s.close()


async def sql(url: str, query: str, *args: Any) -> Sequence[Any]:
    """Run one statement behind the store's back (search_path jobdeck) and return its rows."""
    conn = await asyncpg.connect(url, server_settings={"search_path": "jobdeck"})
    try:
        if not args and ";" in query:
            await conn.execute(query)  # a script of several statements
            return []
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()
