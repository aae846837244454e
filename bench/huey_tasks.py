"""The huey side of the comparison: one no-op task on huey's SQLite storage.

The storage runs with the durability jobdeck uses (WAL, `synchronous = NORMAL`); huey's own
default would be FULL, which costs it an fsync per enqueue and per dequeue. The consumer imports
this module by name (`bench.huey_tasks.huey`), so the file comes from the environment variable.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from huey import Huey
from huey.storage import SqliteStorage

DB_ENV = "JOBDECK_BENCH_HUEY_DB"


class NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


huey = Huey(
    "bench",
    storage_class=NormalSyncStorage,
    filename=os.environ[DB_ENV],
    results=True,
)


@huey.task()  # type: ignore[untyped-decorator]
def noop(n: int) -> Any:
    return {"ok": True}
