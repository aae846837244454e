"""The PostgreSQL database as a whole rather than the jobs in it: VACUUM on the tables of the
`jobdeck` schema and the bytes they take. A backup of PostgreSQL is pg_dump's work
(`pg_dump --schema=jobdeck`), not jobdeck's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import asyncpg

from jobdeck.core.errors import StorageError
from jobdeck.storage.postgres.connection import Connection, prepare, settings
from jobdeck.storage.postgres.errors import DRIVER_ERRORS, Target, parse_url, storage_error

CONNECT_TIMEOUT: Final = 10.0

# -- statements ------------------------------------------------------------------------------------

# Bytes on disk of every table of the jobdeck schema, with its indexes and TOAST.
TABLES_SIZE: Final = """
SELECT coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)), 0)
FROM pg_tables WHERE schemaname = 'jobdeck'
"""
# One VACUUM naming every table of the jobdeck schema, each name quoted by the server itself:
# VACUUM takes no parameters, and the set of tables grows with the migrations.
VACUUM_STATEMENT: Final = """
SELECT 'VACUUM ' || string_agg(format('%I.%I', schemaname, tablename), ', ' ORDER BY tablename)
FROM pg_tables WHERE schemaname = 'jobdeck'
"""


@dataclass(frozen=True, slots=True)
class Vacuumed:
    """The bytes the jobdeck schema's tables take (`pg_total_relation_size` summed) before and
    after VACUUM, on the database `database` names (never with its password)."""

    database: str
    before: int
    after: int

    @property
    def freed(self) -> int:
        """Bytes given back to the disk (0 when VACUUM's own bookkeeping grew the tables)."""
        return max(0, self.before - self.after)


async def vacuum(url: str, *, connect_timeout: float = CONNECT_TIMEOUT) -> Vacuumed:
    """Run VACUUM on every table of the jobdeck schema at `url`, outside a transaction (VACUUM
    refuses to run inside one), and measure them before and after. Plain VACUUM lets workers
    go on reading and writing; it gives back the empty pages at a table's end and makes the
    rest reusable (only VACUUM FULL, which locks each table, rewrites it smaller).

    Raises StorageError when the server cannot be reached, the database holds no jobdeck schema
    of this jobdeck's version, or the user may not vacuum."""
    target = parse_url(url)
    conn = await _connect(target, connect_timeout)
    try:
        await prepare(conn, target, read_only=True, create=False)
        before = int(await conn.fetchval(TABLES_SIZE))
        statement = await conn.fetchval(VACUUM_STATEMENT)
        await conn.execute(statement)
        after = int(await conn.fetchval(TABLES_SIZE))
    except DRIVER_ERRORS as exc:
        raise storage_error(exc, target) from exc
    finally:
        await _close(conn)
    return Vacuumed(target.shown, before, after)


async def _connect(target: Target, connect_timeout: float) -> Connection:
    try:
        return await asyncpg.connect(
            target.url, timeout=connect_timeout, server_settings=settings(read_only=False)
        )
    except DRIVER_ERRORS as exc:
        raise storage_error(exc, target) from exc
    except asyncpg.ClientConfigurationError as exc:
        raise StorageError(f"{target.shown} is not a usable PostgreSQL URL ({exc}).") from exc


async def _close(conn: Connection) -> None:
    try:
        await conn.close(timeout=5)
    except DRIVER_ERRORS:  # the connection is gone already: nothing is left to close cleanly
        conn.terminate()
