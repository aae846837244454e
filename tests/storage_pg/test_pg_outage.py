"""PostgreSQL out of reach for a moment: the driver's and the network's errors of an outage are
one StoreUnavailable, other errors stay plain StorageErrors; a session the server ends
(`pg_terminate_backend`) fails the call in flight with StoreUnavailable and the next call works
on a fresh connection; the LISTEN connection comes back by itself."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest

from jobdeck.core.contract import Status
from jobdeck.core.errors import StorageError, StoreUnavailable
from jobdeck.storage.postgres.errors import parse_url, storage_error, unreachable
from jobdeck.storage.postgres.store import PostgresStore
from tests.storage.conftest import NOW, make_job
from tests.storage_pg.conftest import sql

TARGET = parse_url("postgresql://app@db.example:5432/jobs")
E = asyncpg.exceptions


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        E.CannotConnectNowError("the database system is starting up"),
        E.AdminShutdownError("terminating connection due to administrator command"),
        E.CrashShutdownError("terminating connection because of crash of another process"),
        E.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_an_outage_is_store_unavailable_with_one_line(exc: BaseException) -> None:
    assert unreachable(exc)
    error = storage_error(exc, TARGET)
    assert isinstance(error, StoreUnavailable)
    assert "db.example:5432" in str(error) and "\n" not in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        socket.gaierror(-2, "Name or service not known"),
        E.InvalidPasswordError("password authentication failed"),
        E.InvalidCatalogNameError('database "jobs" does not exist'),
        E.TooManyConnectionsError("sorry, too many clients already"),
        E.UndefinedTableError('relation "jobs" does not exist'),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_other_trouble_is_not_an_outage(exc: BaseException) -> None:
    assert not unreachable(exc)
    error = storage_error(exc, TARGET)
    assert isinstance(error, StorageError) and not isinstance(error, StoreUnavailable)


TERMINATE = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = 'jobdeck' AND datname = current_database() AND pid <> pg_backend_pid()
"""


async def test_a_terminated_session_fails_the_call_in_flight_and_the_next_call_works(
    store: PostgresStore, pg_url: str
) -> None:
    async def slow(conn: asyncpg.Connection) -> object:
        return await conn.fetchval("SELECT pg_sleep(30)")

    in_flight = asyncio.create_task(store._read(slow))
    for _ in range(2000):  # until the sleep's session exists and is ended
        if (await sql(pg_url, TERMINATE))[0][0]:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(StoreUnavailable, match=r"ended the session|lost the connection"):
        await asyncio.wait_for(in_flight, 20)
    assert (await store.counts())[Status.QUEUED] == 0


async def test_the_listen_connection_comes_back_after_the_server_ends_it(
    store: PostgresStore, pg_url: str
) -> None:
    other = await PostgresStore.open(pg_url)
    try:
        await store.wait_for_jobs(NOW, 0.01)  # opens the LISTEN connection
        listening = store._listener
        assert listening is not None and not listening.is_closed()
        ended = asyncio.Event()
        listening.add_termination_listener(lambda _: ended.set())
        assert (await sql(pg_url, TERMINATE))[0][0] >= 1
        await asyncio.wait_for(ended.wait(), 20)
        assert listening.is_closed()
        # The first wait listens again (and returns at once: a NOTIFY may have been missed).
        await asyncio.wait_for(store.wait_for_jobs(NOW, 30), 20)
        assert store._listener is not None and not store._listener.is_closed()
        # A job queued by another process now wakes a long wait through the new connection.
        waiting = asyncio.create_task(store.wait_for_jobs(NOW, 60))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await other.insert([make_job(1)])
        await asyncio.wait_for(waiting, 20)
    finally:
        await other.close()
