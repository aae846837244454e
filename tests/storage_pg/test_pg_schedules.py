"""The schedules contract of tests/storage/test_schedules.py, on PostgreSQL: the same tests, with
rows read behind the store's back through asyncpg and a second store on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from jobdeck.storage.postgres.store import PostgresStore
from tests.storage.test_schedules import Raw, ScheduleContract

from .conftest import sql


class TestPgSchedules(ScheduleContract):
    pass


@pytest.fixture
def raw(pg_url: str) -> Raw:
    async def read(query: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await sql(pg_url, query)]

    return read


@pytest.fixture
async def other_store(pg_url: str, store: PostgresStore) -> AsyncIterator[PostgresStore]:
    other = await PostgresStore.open(pg_url)
    yield other
    await other.close()
