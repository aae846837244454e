"""Opening a PostgreSQL database: migrations, refusals with one sentence, read-only."""

from __future__ import annotations

import asyncio

import pytest

from jobdeck.core.contract import Status
from jobdeck.core.errors import StorageError
from jobdeck.storage import open_store
from jobdeck.storage.postgres.schema import latest
from jobdeck.storage.postgres.store import PostgresStore
from tests.storage.conftest import make_job

from .conftest import sql


async def test_a_new_database_gets_the_jobdeck_schema_at_the_latest_version(
    pg_empty_url: str,
) -> None:
    store = await open_store(pg_empty_url)
    await store.close()
    [(version,)] = await sql(pg_empty_url, "SELECT version FROM schema_version")
    assert version == latest() >= 1
    rows = await sql(pg_empty_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'jobdeck'")
    assert {"jobs", "attempts", "events", "faults", "counts", "workers", "steps"} <= {
        row[0] for row in rows
    }


async def test_processes_opening_a_new_database_at_once_migrate_it_once(
    pg_empty_url: str,
) -> None:
    stores = await asyncio.gather(*(open_store(pg_empty_url) for _ in range(4)))
    await stores[0].insert([make_job(1)])
    assert (await stores[3].counts())[Status.QUEUED] == 1
    await asyncio.gather(*(s.close() for s in stores))


async def test_a_newer_schema_is_refused(pg_url: str) -> None:
    await sql(pg_url, "UPDATE schema_version SET version = $1", latest() + 1)
    with pytest.raises(StorageError, match="written by a newer jobdeck"):
        await open_store(pg_url)
    with pytest.raises(StorageError, match="written by a newer jobdeck"):
        await open_store(pg_url, read_only=True)


async def test_read_only_refuses_writes_and_still_reads(pg_url: str) -> None:
    writer = await open_store(pg_url)
    await writer.insert([make_job(1)])
    reader = await open_store(pg_url, read_only=True)
    try:
        with pytest.raises(StorageError, match="is open read-only; open it writable"):
            await reader.insert([make_job(2)])
        with pytest.raises(StorageError, match="is open read-only"):
            await reader.touch_worker("w", 1.0)
        assert (await reader.counts())[Status.QUEUED] == 1
        assert await reader.get(make_job(1).id) == make_job(1)
    finally:
        await reader.close()
        await writer.close()


async def test_read_only_or_existing_only_never_creates_the_schema(pg_empty_url: str) -> None:
    with pytest.raises(StorageError, match="not a jobdeck database"):
        await open_store(pg_empty_url, read_only=True)
    with pytest.raises(StorageError, match="there is no jobdeck database at"):
        await open_store(pg_empty_url, create=False)
    assert await sql(pg_empty_url, "SELECT 1 FROM pg_namespace WHERE nspname = 'jobdeck'") == []


async def test_a_jobdeck_schema_of_another_program_is_left_alone(pg_empty_url: str) -> None:
    await sql(pg_empty_url, "CREATE SCHEMA jobdeck; CREATE TABLE jobdeck.jobs (x int)")
    with pytest.raises(StorageError, match="of another program"):
        await open_store(pg_empty_url)


async def test_an_unreachable_server_is_one_sentence() -> None:
    with pytest.raises(StorageError) as caught:
        await open_store("postgresql://jobdeck:secret@127.0.0.1:1/jobs")
    message = str(caught.value)
    assert message == (
        "cannot reach the PostgreSQL server at 127.0.0.1:1: nothing accepts connections there."
    )
    assert "secret" not in message


async def test_a_missing_database_is_named(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(StorageError, match="the database no_such_db does not exist"):
        await open_store(missing)


async def test_an_unknown_user_is_refused_with_its_name(pg_url: str) -> None:
    head, tail = pg_url.split("@", 1)
    with pytest.raises(StorageError, match="refused user nobody_here"):
        await open_store(f"postgresql://nobody_here:pw@{tail}")
    assert head  # the URL had a user part to replace


async def test_a_malformed_url_is_refused() -> None:
    with pytest.raises(StorageError, match="not a valid PostgreSQL URL"):
        await open_store("postgresql://u:pw@host:notaport/db")


async def test_a_closed_store_refuses_calls(store: PostgresStore) -> None:
    await store.close()
    with pytest.raises(StorageError, match="already closed"):
        await store.counts()
