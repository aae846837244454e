"""The PostgreSQL backend: `PostgresStore` on asyncpg, its statements, transactions and
migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobdeck.storage.postgres.store import PostgresStore


def __getattr__(name: str) -> Any:
    # Loaded on first use, so reading this package's statements never imports asyncpg.
    if name == "PostgresStore":
        from jobdeck.storage.postgres.store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module 'jobdeck.storage.postgres' has no attribute {name!r}")


__all__ = ["PostgresStore"]
