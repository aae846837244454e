"""The SQLite backend: `SqliteStore` on aiosqlite, its statements, transactions, checkpoints and
migrations, and the plain-sqlite3 read path of the quick commands (`peek`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobdeck.storage.sqlite.store import SqliteStore


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `peek` (the quick read commands) never pays for aiosqlite or pydantic.
    if name == "SqliteStore":
        from jobdeck.storage.sqlite.store import SqliteStore

        return SqliteStore
    raise AttributeError(f"module 'jobdeck.storage.sqlite' has no attribute {name!r}")


__all__ = ["SqliteStore"]
