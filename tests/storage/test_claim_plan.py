"""The claim stays one walk of one index in its own order: SQLite's plan for every claim
statement reads `jobs_claim` and never sorts into a temporary B-tree nor scans the table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jobdeck.storage import open_store
from jobdeck.storage.sqlite import queries as q

CLAIMS = {
    "claim any": (q.CLAIM_ANY, {"worker": "w", "expires": 1.0, "now": 0.0, "limit": 8}),
    "claim kinds": (
        q.CLAIM_KINDS,
        {"worker": "w", "expires": 1.0, "now": 0.0, "limit": 8, "kinds": '["a"]'},
    ),
    "candidates": (
        q.SELECT_CANDIDATES,
        {"now": 0.0, "kinds": None, "full": '["a"]', "limit": 8},
    ),
}


@pytest.fixture
async def db(tmp_path: Path) -> str:
    path = str(tmp_path / "plan.db")
    await (await open_store(path)).close()
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts, idempotency_key,"
            " dedupe_key, created_at, updated_at, run_after, priority)"
            " VALUES (?, 'a', '{}', ?, 0, 1, ?, ?, 0, 0, ?, ?)",
            [
                (f"{i:026d}", "queued" if i % 3 else "done", f"k{i}", f"k{i}", i, i % 7 - 3)
                for i in range(3000)
            ],
        )
        conn.execute("ANALYZE")
    return path


def plan(path: str, sql: str, params: dict[str, object]) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_a_claim_walks_jobs_claim_in_order_without_a_sort_or_a_table_scan(
    db: str, name: str
) -> None:
    sql, params = CLAIMS[name]
    steps = plan(db, sql, params)
    assert any("INDEX jobs_claim" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps
    table_scans = [s for s in steps if s.startswith("SCAN jobs") and "USING" not in s]
    assert not table_scans, steps
