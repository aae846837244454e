"""Opening a file: migrations, refusals with one sentence, permissions, read-only."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from jobdeck.core.contract import Status
from jobdeck.core.errors import StorageError
from jobdeck.storage import SqliteStore, open_store
from jobdeck.storage.sqlite import connection as sqlite_open
from jobdeck.storage.sqlite import files as sqlite_files
from jobdeck.storage.sqlite.schema import Migration, latest, migrations

from .conftest import exists, make_job, size


def user_version(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def tables(path: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


async def test_new_database_is_migrated_to_the_latest_schema(db_path: str) -> None:
    store = await open_store(db_path)
    await store.close()
    assert user_version(db_path) == latest() >= 1
    assert {"jobs", "attempts", "events", "faults", "counts", "workers"} <= tables(db_path)


async def test_reopening_keeps_jobs(db_path: str) -> None:
    store = await open_store(db_path)
    await store.insert([make_job(1)])
    await store.close()
    store = await open_store(db_path)
    assert (await store.get(make_job(1).id)) == make_job(1)
    await store.close()


async def test_sqlite_url_opens_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "url.db"
    store = await open_store(f"sqlite:///{path}")
    assert store.path == str(path)
    await store.close()
    assert path.exists()


async def test_a_postgres_url_goes_to_the_postgres_backend() -> None:
    with pytest.raises(StorageError, match=r"cannot reach the PostgreSQL server at 127\.0\.0\.1:1"):
        await open_store("postgresql://nobody@127.0.0.1:1/jobs")


async def test_newer_schema_is_refused(db_path: str) -> None:
    await (await open_store(db_path)).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {latest() + 1}")
    with pytest.raises(
        StorageError, match=rf"newer jobdeck \(schema {latest() + 1}; this one knows {latest()}\)"
    ):
        await open_store(db_path)
    with pytest.raises(StorageError, match="newer jobdeck"):
        await open_store(db_path, read_only=True)


async def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n")
    with pytest.raises(StorageError, match="not a jobdeck database"):
        await open_store(str(path))
    assert path.read_text() == "these are my notes, not a database\n"


async def test_another_programs_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = str(tmp_path / "other.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(StorageError, match="another program"):
        await open_store(path)
    assert tables(path) == {"recipes"} and user_version(path) == 0


async def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        await open_store(str(tmp_path / "nowhere" / "jobs.db"))
    assert not (tmp_path / "nowhere").exists()


async def test_create_false_refuses_a_missing_file(db_path: str) -> None:
    with pytest.raises(StorageError, match="there is no database"):
        await open_store(db_path, create=False)
    assert not exists(db_path)


async def test_database_files_are_readable_by_their_owner_only(db_path: str) -> None:
    store = await open_store(db_path)
    await store.insert([make_job(1)])
    for suffix in ("", "-wal", "-shm"):
        mode = stat.S_IMODE(os.stat(db_path + suffix).st_mode)
        assert mode == 0o600, (suffix, oct(mode))
    await store.close()


async def test_migrations_run_in_one_transaction(
    db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Migration(2, "0002_broken.sql", ("CREATE TABLE half (x)", "THIS IS NOT SQL"))
    monkeypatch.setattr(sqlite_open, "migrations", lambda: (*migrations(), broken))
    monkeypatch.setattr(sqlite_open, "latest", lambda: 2)
    with pytest.raises(StorageError):
        await open_store(db_path)
    assert user_version(db_path) == 0
    assert tables(db_path) == set()


async def test_read_only_open_of_a_missing_file_creates_nothing(db_path: str) -> None:
    with pytest.raises(StorageError, match="there is no database"):
        await open_store(db_path, read_only=True)
    assert not exists(db_path)


async def test_read_only_open_does_not_migrate(db_path: str) -> None:
    sqlite_files.create_file(db_path)
    with pytest.raises(StorageError, match="not a jobdeck database"):
        await open_store(db_path, read_only=True)
    assert size(db_path) == 0


async def test_read_only_store_reads_but_refuses_every_write(db_path: str) -> None:
    writer = await open_store(db_path)
    await writer.insert([make_job(1)])
    reader = await open_store(db_path, read_only=True)
    assert (await reader.get(make_job(1).id)).status is Status.QUEUED
    assert (await reader.counts())[Status.QUEUED] == 1
    with pytest.raises(StorageError, match="read-only"):
        await reader.insert([make_job(2)])
    with pytest.raises(StorageError, match="read-only"):
        await reader.claim("w", [], 1, 1e10, 30)
    with pytest.raises(StorageError, match="read-only"):
        await reader.touch_worker("w", 1.0)
    assert (await writer.counts())[Status.QUEUED] == 1
    await reader.close()
    await writer.close()


async def test_closed_store_answers_a_sentence(store: SqliteStore) -> None:
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.counts()


async def test_read_only_open_works_after_every_writer_closed(db_path: str) -> None:
    writer = await open_store(db_path)
    await writer.insert([make_job(1)])
    await writer.close()
    reader = await open_store(db_path, read_only=True)
    assert (await reader.get(make_job(1).id)) == make_job(1)
    await reader.close()
    assert user_version(db_path) == latest()


def test_the_latest_schema_constant_matches_the_migration_files() -> None:
    from jobdeck.storage.sqlite.schema_version import LATEST

    assert latest() == LATEST


def at_schema(conn: sqlite3.Connection, version: int) -> None:
    """Build the schema as an older jobdeck left it: migrations 1..version only."""
    for migration in migrations():
        if migration.version <= version:
            for statement in migration.statements:
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")


def insert_job(conn: sqlite3.Connection, job_id: str, status: str, key: str) -> None:
    conn.execute(
        "INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts,"
        " idempotency_key, dedupe_key, created_at, updated_at, run_after)"
        " VALUES (?, 'k', '{}', ?, 1, 1, ?, ?, 0, 0, 0)",
        (job_id, status, key, key),
    )


async def test_schema_3_gives_failed_jobs_keys_back_and_keeps_live_ones(db_path: str) -> None:
    with sqlite3.connect(db_path) as conn:
        at_schema(conn, 2)
        for n, status in ((1, "failed"), (2, "done")):
            insert_job(conn, f"J{n}", status, f"key{n}")
    store = await open_store(db_path)
    await store.close()
    assert user_version(db_path) == latest() >= 3
    with sqlite3.connect(db_path) as conn:
        keys = dict(conn.execute("SELECT id, dedupe_key FROM jobs").fetchall())
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts,"
                " idempotency_key, dedupe_key, created_at, updated_at, run_after)"
                " VALUES ('J3', 'k', '{}', 'queued', 0, 1, 'key2', 'key2', 0, 0, 0)"
            )
    assert keys == {"J1": None, "J2": "key2"}


async def test_schema_4_keeps_every_event_and_its_cursor(db_path: str) -> None:
    with sqlite3.connect(db_path) as conn:
        at_schema(conn, 3)
        insert_job(conn, "J1", "queued", "key1")
        conn.executemany(
            "INSERT INTO events (cursor, job_id, to_status, attempt, at, step)"
            " VALUES (?, 'J1', 'queued', 0, ?, ?)",
            [(3, 1.0, None), (7, 2.0, "charge")],
        )
        before = conn.execute("SELECT * FROM events ORDER BY cursor").fetchall()
    store = await open_store(db_path)
    await store.insert([make_job(1)])
    events = await store.events()
    await store.close()
    assert user_version(db_path) == latest() >= 4
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT * FROM events WHERE cursor <= 7").fetchall() == before
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        sequences = conn.execute("SELECT name FROM sqlite_sequence").fetchall()
    assert "AUTOINCREMENT" not in sql and ("events",) not in sequences
    assert [e.cursor for e in events] == [3, 7, 8]
