"""Checkpoints run beside the writes, never inside a commit, and end with the store."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from jobdeck.core.contract import Status
from jobdeck.storage import SqliteStore, open_store
from jobdeck.storage.sqlite.checkpoint import Checkpointer

from .conftest import make_job


def sizes(path: str) -> tuple[int, int]:
    """Bytes of the database file and of its WAL. Only a checkpoint grows the database file."""
    return os.path.getsize(path), os.path.getsize(path + "-wal")


async def settle(checkpoints: Checkpointer) -> None:
    for _ in range(200):
        task = checkpoints._task
        if task is None or task.done():
            return
        await asyncio.sleep(0.01)


async def test_a_commit_leaves_the_checkpoint_to_the_background(
    store: SqliteStore, db_path: str
) -> None:
    assert store._checkpoints is not None
    store._checkpoints.period = 3600.0  # none starts during this test
    row = await store._run(lambda conn: conn.execute("PRAGMA wal_autocheckpoint").fetchone())
    assert row[0] == 10_000
    before, _ = sizes(db_path)
    for i in range(1, 301):  # WAL pages past SQLite's default threshold of 1,000
        await store.insert([make_job(i)])
    database, wal = sizes(db_path)
    assert store._checkpoints.runs == 0
    assert wal > 1000 * 4096 and database == before


async def test_writes_are_checkpointed_beside_them(store: SqliteStore, db_path: str) -> None:
    assert store._checkpoints is not None
    store._checkpoints.period = 0.0
    before, _ = sizes(db_path)
    for i in range(1, 51):
        await store.insert([make_job(i)])
        await settle(store._checkpoints)
    database, _ = sizes(db_path)
    assert store._checkpoints.runs >= 2
    assert database > before  # committed pages are back in the database file
    assert (await store.counts())[Status.QUEUED] == 50


async def test_close_waits_for_a_running_checkpoint(store: SqliteStore) -> None:
    assert store._checkpoints is not None
    checkpoints = store._checkpoints
    checkpoints.period = 0.0
    await store.insert([make_job(1)])
    task = checkpoints._task
    assert task is not None
    await store.close()
    assert task.done() and checkpoints._conn is None
    checkpoints.wrote()  # after close: starts nothing
    assert checkpoints._task is task


async def test_a_read_only_store_runs_no_checkpoints(store: SqliteStore, db_path: str) -> None:
    reader = await open_store(db_path, read_only=True)
    try:
        assert isinstance(reader, SqliteStore) and reader._checkpoints is None
    finally:
        await reader.close()


async def test_a_checkpoint_that_fails_is_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "jobdeck.storage.sqlite.checkpoint")
    checkpoints = Checkpointer(str(tmp_path), period=0.0)  # a folder: SQLite cannot open it
    checkpoints.wrote()
    await settle(checkpoints)
    assert checkpoints.runs == 0
    assert "skipped a checkpoint" in caplog.text
    await checkpoints.close()
