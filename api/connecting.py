"""`jobdeck.connect`: a synchronous Client on the database a path or URL names."""

from __future__ import annotations

import os

from jobdeck.core.client import Client
from jobdeck.core.errors import InvalidInput
from jobdeck.core.registry import Registry
from jobdeck.storage import is_postgres_url, sqlite_path


def connect(
    url: str | os.PathLike[str], *, registry: Registry, busy_timeout: float = 5.0
) -> Client:
    """Open the database at `url` for blocking calls and answer a Client over it.

    `url` is a SQLite file path (created, mode 0600, when missing), a `sqlite:///path` URL, or
    a `postgresql://user:password@host:port/db` URL; the schema is created or migrated forward
    either way. `registry` names the kinds the client may submit. On SQLite the calling thread
    writes through sqlite3 itself; on PostgreSQL the asyncpg store runs on a private event loop
    thread (no second driver to install).

    Raises InvalidInput for a registry that is not a Registry or a url that is not text, and
    StorageError (one sentence) for a database that cannot be opened: an empty path, a folder,
    a URL of another scheme, a file that is not a jobdeck database, a server that is not there.
    """
    if not isinstance(registry, Registry):
        raise InvalidInput(f"registry must be a jobdeck.Registry, not {type(registry).__name__}.")
    if not isinstance(url, str | os.PathLike):
        raise InvalidInput(f"the database must be a file path or a URL, not {type(url).__name__}.")
    where = os.fspath(url)
    if is_postgres_url(where):
        # Imported here so a SQLite user never loads asyncpg.
        from jobdeck.core.loop_thread import LoopedStore
        from jobdeck.storage.postgres.store import PostgresStore

        return Client(LoopedStore.open(lambda: PostgresStore.open(where)), registry)
    from jobdeck.storage.sqlite.sync import SyncSqlite

    return Client(SyncSqlite.open(sqlite_path(where), busy_timeout=busy_timeout), registry)


__all__ = ["connect"]
