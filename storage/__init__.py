"""Where jobdeck keeps its jobs: every SQL statement lives in this package, one module per backend.

`open_store(url_or_path)` is the one way in; it answers a backend that satisfies
`jobdeck.core.store.Store`.
"""

from __future__ import annotations

from jobdeck.core.errors import StorageError
from jobdeck.storage.sqlite import SqliteStore

__all__ = ["SqliteStore", "open_store"]

_SQLITE_URL = "sqlite:///"
_POSTGRES_URLS = ("postgresql://", "postgres://")


async def open_store(path: str, *, read_only: bool = False, create: bool = True) -> SqliteStore:
    """Open the database at `path`: a file path, or a `sqlite:///relative.db` /
    `sqlite:////absolute.db` URL.

    A writable open creates the file (mode 0600) when `create` is true and migrates its schema
    forward; a read-only open creates and migrates nothing. Raises StorageError (one sentence)
    when the database cannot be opened, including for PostgreSQL URLs, not supported yet.
    """
    if path.startswith(_POSTGRES_URLS):
        raise StorageError(
            "PostgreSQL support is not available yet; use a SQLite file path for now."
        )
    if path.startswith(_SQLITE_URL):
        path = path[len(_SQLITE_URL) :]
    elif "://" in path:
        raise StorageError(f"{path} is not a database jobdeck can open; give a SQLite file path.")
    if not path:
        raise StorageError("the database path is empty; give a SQLite file path.")
    return await SqliteStore.open(path, read_only=read_only, create=create)
