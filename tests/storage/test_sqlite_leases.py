"""Faults, leases, workers, and a locked database."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from jobdeck.core.contract import Fault, Status
from jobdeck.core.errors import NotFound, StorageError
from jobdeck.storage import SqliteStore
from jobdeck.storage.sqlite import tx

from .conftest import NOW, make_job


async def test_a_fault_is_consumed_once_per_attempt(store: SqliteStore) -> None:
    await store.insert([make_job(i) for i in range(3)])
    armed = await store.arm_fault(Fault(kind="email", times=2, remaining=2, created_at=NOW))
    assert armed.id > 0 and await store.faults() == [armed]
    claimed = await store.claim("w", [], 3, NOW, 30)
    assert [c.fault is not None for c in claimed] == [True, True, False]
    assert claimed[1].fault is not None and claimed[1].fault.remaining == 0
    assert await store.faults() == []


async def test_a_jobs_own_fault_beats_its_kinds_fault(store: SqliteStore) -> None:
    await store.insert([make_job(1), make_job(2)])
    by_kind = await store.arm_fault(Fault(kind="email", reason="kind", created_at=NOW))
    by_job = await store.arm_fault(Fault(job_id=make_job(2).id, reason="job", created_at=NOW))
    first, second = await store.claim("w", [], 2, NOW, 30)
    assert first.fault is not None and first.fault.id == by_kind.id
    assert second.fault is not None and second.fault.id == by_job.id


async def test_a_fault_for_another_kind_is_left_armed(store: SqliteStore) -> None:
    await store.insert([make_job(1)])
    armed = await store.arm_fault(Fault(kind="resize", created_at=NOW))
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    assert claimed.fault is None and await store.faults() == [armed]


async def test_arming_a_fault_for_an_unknown_job_is_not_found(store: SqliteStore) -> None:
    with pytest.raises(NotFound):
        await store.arm_fault(Fault(job_id="nope"))
    assert await store.faults() == []


async def test_heartbeat_extends_only_leases_the_worker_still_holds(store: SqliteStore) -> None:
    await store.insert([make_job(i) for i in range(3)])
    mine = [c.job.id for c in await store.claim("w1", [], 2, NOW, 30)]
    theirs = [c.job.id for c in await store.claim("w2", [], 1, NOW, 30)]
    held = await store.heartbeat("w1", [*mine, *theirs], NOW + 60, NOW + 10)
    assert held == set(mine)
    assert (await store.get(mine[0])).lease_expires_at == NOW + 60
    assert (await store.get(theirs[0])).lease_expires_at == NOW + 30
    # a lease that already ended is lost, even before anyone recovers the job
    assert await store.heartbeat("w2", theirs, NOW + 90, NOW + 31) == set()


async def test_expired_lists_running_jobs_past_their_lease_oldest_first(
    store: SqliteStore,
) -> None:
    await store.insert([make_job(i) for i in range(4)])
    await store.claim("w", [], 1, NOW, 50)
    await store.claim("w", [], 1, NOW, 10)
    await store.claim("w", [], 1, NOW, 100)
    expired = await store.expired(NOW + 60, 10)
    assert [job.id[-1] for job in expired] == ["1", "0"]
    assert all(job.status is Status.RUNNING for job in expired)
    assert len(await store.expired(NOW + 60, 1)) == 1


async def test_workers_alive_counts_recent_workers(store: SqliteStore) -> None:
    await store.touch_worker("a", NOW)
    await store.touch_worker("b", NOW - 100)
    await store.touch_worker("b", NOW - 1)
    await store.touch_worker("c", NOW - 100)
    assert await store.workers_alive(NOW, within=5) == 2
    await store.forget_worker("a")
    assert await store.workers_alive(NOW, within=5) == 1


def hold_write_lock(db_path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def test_a_database_locked_too_long_is_one_storage_error(db_path: str) -> None:
    store = await SqliteStore.open(db_path, busy_timeout=0.02)
    blocker = hold_write_lock(db_path)
    try:
        with pytest.raises(StorageError, match="stayed locked for") as caught:
            await store.insert([make_job(1)])
        assert not isinstance(caught.value, sqlite3.Error)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await store.close()


async def test_a_briefly_locked_database_is_retried(db_path: str) -> None:
    store = await SqliteStore.open(db_path, busy_timeout=0.02)
    blocker = hold_write_lock(db_path)
    asyncio.get_running_loop().call_later(0.1, blocker.execute, "ROLLBACK")
    try:
        assert await store.insert([make_job(1)]) == [make_job(1)]
    finally:
        blocker.close()
        await store.close()


async def test_reads_go_on_while_a_writer_holds_the_lock(store: SqliteStore, db_path: str) -> None:
    await store.insert([make_job(1)])
    blocker = hold_write_lock(db_path)
    try:
        assert (await store.counts())[Status.QUEUED] == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_a_writer_waits_for_the_lock_and_takes_it_when_another_lets_go(db_path: str) -> None:
    sqlite3.connect(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    waiter = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    released = []

    def release() -> None:
        time.sleep(0.05)
        released.append(time.monotonic())
        holder.execute("COMMIT")

    threading.Thread(target=release).start()
    tx.begin_write(waiter, wait=30.0)
    assert released  # it waited for the holder rather than failing at once
    waiter.execute("COMMIT")


def test_a_writer_gives_up_after_its_wait(db_path: str) -> None:
    holder = sqlite3.connect(db_path, isolation_level=None)
    waiter = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    began = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        tx.begin_write(waiter, wait=0.1)
    assert time.monotonic() - began >= 0.05
    holder.execute("ROLLBACK")
