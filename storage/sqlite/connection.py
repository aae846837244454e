"""Opening a SQLite file for jobdeck: the path checks, the file's permissions, connection
settings, and bringing the schema up to date (or refusing a schema this jobdeck does not know)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar, cast

from jobdeck.core.errors import StorageError
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite.files import read_only_uri, refuse_newer
from jobdeck.storage.sqlite.schema import latest, migrations

if TYPE_CHECKING:  # the synchronous Client opens files through `prepare` without aiosqlite
    import aiosqlite

T = TypeVar("T")


async def on_thread(db: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn` with the raw connection on aiosqlite's own thread, as one hop.

    aiosqlite has no public "run this on your thread"; `_execute` is the queue every one of its
    own methods goes through. Running a whole transaction as one function keeps a batch of 50
    transitions one thread hop instead of 150.
    """
    execute = cast(Callable[[Callable[[], T]], Awaitable[T]], db._execute)
    return await execute(lambda: fn(db._conn))


def _target(path: str, *, read_only: bool) -> tuple[str, bool]:
    """What to hand sqlite3.connect, and whether it is a URI (read-only needs `mode=ro`)."""
    if read_only:
        return read_only_uri(path), True
    return path, False


async def connect(path: str, *, read_only: bool) -> aiosqlite.Connection:
    """A connection in autocommit mode (transactions are explicit) on aiosqlite's thread."""
    import aiosqlite

    target, uri = _target(path, read_only=read_only)
    return await aiosqlite.connect(target, uri=uri, isolation_level=None, cached_statements=256)


def prepare(conn: sqlite3.Connection, path: str, *, read_only: bool, busy_ms: int) -> None:
    """Connection settings, then the schema: migrated forward in one transaction when writable,
    only checked when read-only."""
    conn.execute(q.SET_BUSY_TIMEOUT.format(ms=busy_ms))
    for pragma in q.PRAGMAS_READ if read_only else q.PRAGMAS_WRITE:
        conn.execute(pragma)
    version = _version(conn)
    refuse_newer(path, version, latest())
    if read_only:
        if version < latest():
            if version == 0:
                raise StorageError(f"{path} is not a jobdeck database (it has no jobdeck tables).")
            raise StorageError(
                f"{path} needs an upgrade to schema {latest()} (it is at {version}); "
                "open it once without read-only."
            )
        return
    if version < latest():
        _migrate(conn, path)
    # From here on a writer waits for the write lock in `tx.begin_write`, in finer steps
    # than SQLite's busy handler takes.
    conn.execute(q.SET_BUSY_TIMEOUT.format(ms=0))


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute(q.USER_VERSION).fetchone()[0])


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    conn.execute(q.BEGIN_WRITE)
    try:
        version = _version(conn)  # again: another process may have migrated while we waited
        refuse_newer(path, version, latest())
        if version == 0 and conn.execute(q.HAS_TABLES).fetchone()[0]:
            raise StorageError(
                f"{path} is an SQLite database of another program, not a jobdeck one."
            )
        for migration in migrations()[version:]:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(q.SET_USER_VERSION.format(version=migration.version))
        conn.execute(q.COMMIT)
    except BaseException:
        if conn.in_transaction:
            conn.execute(q.ROLLBACK)
        raise
