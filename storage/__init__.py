"""Where jobdeck keeps its jobs: every SQL statement lives in this package, one module per backend.

`open_store(url_or_path)` is the one way in; it answers a backend that satisfies
`jobdeck.core.store.Store`: PostgresStore for a postgresql:// (or postgres://) URL, SqliteStore
for anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobdeck.core.errors import StorageError

if TYPE_CHECKING:
    from jobdeck.core.store import Store
    from jobdeck.storage.sqlite.store import SqliteStore


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `jobdeck status` (which reads through storage.peek) never pays for
    # the contract models, pydantic and aiosqlite.
    if name == "SqliteStore":
        from jobdeck.storage.sqlite.store import SqliteStore

        return SqliteStore
    raise AttributeError(f"module 'jobdeck.storage' has no attribute {name!r}")


__all__ = ["SqliteStore", "is_postgres_url", "open_store", "sqlite_path"]

_SQLITE_URL = "sqlite:///"
_POSTGRES_URLS = ("postgresql://", "postgres://")


def is_postgres_url(path: str) -> bool:
    """Whether `path` names a PostgreSQL database rather than a SQLite file."""
    return path.startswith(_POSTGRES_URLS)


async def open_store(path: str, *, read_only: bool = False, create: bool = True) -> Store:
    """Open the database at `path`: a PostgreSQL URL (`postgresql://user:password@host:port/db`),
    a file path, or a `sqlite:///relative.db` / `sqlite:////absolute.db` URL.

    A writable open creates what is missing (a SQLite file, mode 0600, when `create` is true; the
    `jobdeck` schema in a PostgreSQL database) and migrates the schema forward; a read-only open
    creates and migrates nothing. Raises StorageError (one sentence) when the database cannot be
    opened.
    """
    if is_postgres_url(path):
        # Imported here so a SQLite user never loads asyncpg.
        from jobdeck.storage.postgres.store import PostgresStore

        return await PostgresStore.open(path, read_only=read_only, create=create)
    path = sqlite_path(path)
    from jobdeck.storage.sqlite.store import SqliteStore

    return await SqliteStore.open(path, read_only=read_only, create=create)


def sqlite_path(path: str) -> str:
    """The file path a database name that is not a PostgreSQL URL stands for: itself, or the
    path of a `sqlite:///` URL. Raises StorageError for an empty path or another URL scheme."""
    if path.startswith(_SQLITE_URL):
        path = path[len(_SQLITE_URL) :]
    elif "://" in path:
        raise StorageError(
            f"{path} is not a database jobdeck can open; give a SQLite file path or a "
            "postgresql:// URL."
        )
    if not path:
        raise StorageError("the database path is empty; give a SQLite file path.")
    return path
