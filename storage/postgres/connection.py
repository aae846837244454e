"""Opening a PostgreSQL database for jobdeck: the connection pool, and bringing the `jobdeck`
schema up to date (or refusing a schema this jobdeck does not know)."""

from __future__ import annotations

from typing import Any

import asyncpg

from jobdeck.core.errors import StorageError
from jobdeck.storage.postgres import queries as q
from jobdeck.storage.postgres.errors import Target, read_only_error
from jobdeck.storage.postgres.schema import latest, migrations

Connection = Any  # asyncpg ships no type hints


def settings(*, read_only: bool) -> dict[str, str]:
    """Session settings for every connection: the schema, a name in pg_stat_activity, and for a
    read-only store a server that refuses writes too."""
    values = {"search_path": q.SCHEMA, "application_name": "jobdeck"}
    if read_only:
        values["default_transaction_read_only"] = "on"
    return values


async def create_pool(
    target: Target, *, read_only: bool, max_size: int, connect_timeout: float
) -> asyncpg.Pool:
    """A pool of up to `max_size` connections, one opened now so a bad URL fails here.

    No floor of open connections: after a restart the pool opens one when a call asks, and
    that call reports the outage, instead of a background task retrying on its own and
    logging a traceback each time."""
    pool = await asyncpg.create_pool(
        target.url,
        min_size=0,
        max_size=max_size,
        timeout=connect_timeout,
        server_settings=settings(read_only=read_only),
        reset=_keep_session,
    )
    try:
        async with pool.acquire():
            pass
    except BaseException:
        pool.terminate()
        raise
    return pool


async def _keep_session(conn: Connection) -> None:
    """Hand a connection back to the pool without asyncpg's reset query, a round trip on every
    transaction: asyncpg has already rolled back an open transaction and dropped listeners, and
    a pooled connection holds nothing else (no SET, no cursor outliving its transaction, no
    LISTEN; the migration lock is taken on a connection of its own, see `_migrate`)."""


async def listener(target: Target, *, connect_timeout: float) -> Connection:
    """A connection of its own for LISTEN (a pooled one would be handed to someone else)."""
    return await asyncpg.connect(
        target.url, timeout=connect_timeout, server_settings=settings(read_only=False)
    )


async def prepare(conn: Connection, target: Target, *, read_only: bool, create: bool) -> None:
    """Check the schema version; migrate forward in one transaction when writable."""
    version = await _version(conn)
    _refuse_newer(target, version)
    if version >= latest():
        return
    if read_only:
        if version == 0:
            raise StorageError(
                f"{target.shown} is not a jobdeck database (it has no jobdeck tables)."
            )
        raise StorageError(
            f"{target.shown} needs an upgrade to schema {latest()} (it is at {version}); "
            "open it once without read-only."
        )
    if version == 0 and not create:
        raise StorageError(f"there is no jobdeck database at {target.shown} yet.")
    await _migrate(conn, target)


async def _version(conn: Connection) -> int:
    if not await conn.fetchval(q.HAS_VERSION):
        return 0
    return int(await conn.fetchval(q.SCHEMA_VERSION) or 0)


def _refuse_newer(target: Target, version: int) -> None:
    if version > latest():
        raise StorageError(
            f"{target.shown} was written by a newer jobdeck (schema {version}; this one knows "
            f"{latest()}); upgrade jobdeck to open it."
        )


async def _migrate(pooled: Connection, target: Target) -> None:
    # A session lock, so on a connection closed afterwards: a pooled one would keep it if a
    # cancel came between the lock and its release (the pool skips the reset that unlocks).
    conn = await asyncpg.connect(target.url, server_settings=settings(read_only=False))
    try:
        await _migrate_locked(conn, target)
    finally:
        await conn.close()


async def _migrate_locked(conn: Connection, target: Target) -> None:
    await conn.execute(q.LOCK_MIGRATIONS)
    try:
        async with conn.transaction():
            version = await _version(conn)  # again: another process may have migrated meanwhile
            _refuse_newer(target, version)
            if version == 0 and await conn.fetchval(q.HAS_TABLES):
                raise StorageError(
                    f"{target.shown} has a jobdeck schema of another program; jobdeck will not "
                    "touch it."
                )
            await conn.execute(q.CREATE_SCHEMA)
            for migration in migrations()[version:]:
                await conn.execute(migration.script)
            await conn.execute(q.SET_VERSION.format(version=latest()))
    finally:
        await conn.execute(q.UNLOCK_MIGRATIONS)


__all__ = ["Connection", "create_pool", "listener", "prepare", "read_only_error"]
