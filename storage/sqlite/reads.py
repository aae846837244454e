"""Reads that take more than one statement, run the same way by the store (on aiosqlite's
thread) and by the quick read path (peek.py) on a plain sqlite3 connection. Standard library
only, like peek.py."""

from __future__ import annotations

import heapq
import sqlite3
from itertools import islice
from operator import itemgetter
from typing import Any, Final

from jobdeck.storage.columns import JOB_COLUMNS
from jobdeck.storage.sqlite import queries as q

_NAMES: Final = [name.strip() for name in JOB_COLUMNS.split(",")]
# A job row's place in the order `scheduled` lists: run_after, then id.
_SOONEST: Final = itemgetter(_NAMES.index("run_after"), _NAMES.index("id"))


def scheduled(conn: sqlite3.Connection, now: float, limit: int) -> list[tuple[Any, ...]]:
    """Queued jobs not yet due at `now`, soonest first, at most `limit`: each kind's soonest
    `limit` (one walk of `jobs_kind_queued` each), merged. Reads as many rows as kinds times
    `limit` at most, however many jobs are queued."""
    kinds = [kind for (kind,) in conn.execute(q.QUEUED_KINDS)]
    lists = [
        conn.execute(q.SELECT_SCHEDULED_OF_KIND, (kind, now, limit)).fetchall() for kind in kinds
    ]
    return list(islice(heapq.merge(*lists, key=_SOONEST), limit))
