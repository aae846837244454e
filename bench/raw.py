"""The raw sqlite3 floors: what the same work costs with no engine around it."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from jobdeck.storage import queries as q
from jobdeck.storage.schema import migrations

_CLAIM_ONE = """
UPDATE jobs SET status = 'running', attempt = attempt + 1, lease_owner = ?,
                lease_expires_at = ?, updated_at = ?
WHERE id = (SELECT id FROM jobs INDEXED BY jobs_ready
            WHERE status = 'queued' AND run_after <= ? ORDER BY run_after, id LIMIT 1)
RETURNING id, attempt
"""
_COMPLETE_ONE = """
UPDATE jobs SET status = 'done', result = ?, updated_at = ?, lease_owner = NULL,
                lease_expires_at = NULL
WHERE id = ? AND status = 'running' AND attempt = ? AND lease_owner = ?
"""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _jobdeck_schema(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
    conn.execute("BEGIN")
    for migration in migrations():
        for statement in migration.statements:
            conn.execute(statement)
    conn.execute("COMMIT")
    return conn


def _job_rows(n: int, now: float) -> list[tuple[object, ...]]:
    return [
        (f"{i:026d}", "bench.noop", json.dumps({"n": i}), "queued", 0, 1, None, None, None,
         f"key-{i}", f"key-{i}", None, now, now, now, None, None)
        for i in range(n)
    ]  # fmt: skip


def executemany_rate(folder: Path, n: int) -> float:
    """Rows of a four-column table in one executemany and one transaction: no gates, no
    indexes but the key, no events (the issue's reference figure)."""
    conn = _connect(folder / "raw-insert.db")
    try:
        conn.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT, payload TEXT, status TEXT)"
        )
        rows = [(f"{i:026d}", "bench.noop", json.dumps({"n": i}), "queued") for i in range(n)]
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        return n / (time.perf_counter() - started)
    finally:
        conn.close()


def schema_executemany_rate(folder: Path, n: int) -> float:
    """jobdeck's own tables and indexes, filled with executemany: each job row and its creation
    event, one transaction per 10,000. What batch submit costs with no Python work at all."""
    conn = _jobdeck_schema(folder / "raw-schema.db")
    try:
        now = time.time()
        rows = _job_rows(n, now)
        events = [(row[0], None, "queued", 0, None, now) for row in rows]
        started = time.perf_counter()
        for i in range(0, n, 10_000):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(q.INSERT_JOB, rows[i : i + 10_000])
            conn.executemany(q.INSERT_EVENT, events[i : i + 10_000])
            conn.execute("COMMIT")
        return n / (time.perf_counter() - started)
    finally:
        conn.close()


def claim_complete_rate(folder: Path, n: int) -> float:
    """One job at a time on jobdeck's schema: claim it (one transaction: the UPDATE and its
    event), complete it (another: the UPDATE and its event). No attempts table, no Python
    objects: the floor a job engine on this schema cannot go below per transition."""
    conn = _jobdeck_schema(folder / "raw-claim.db")
    try:
        now = time.time()
        conn.execute("BEGIN")
        conn.executemany(q.INSERT_JOB, _job_rows(n, now))
        conn.execute("COMMIT")
        done = 0
        started = time.perf_counter()
        while True:
            at = time.time()
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(_CLAIM_ONE, ("raw", at + 30, at, at)).fetchone()
            if row is None:
                conn.execute("COMMIT")
                break
            conn.execute(q.INSERT_EVENT, (row[0], "queued", "running", row[1], None, at))
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_COMPLETE_ONE, ('{"ok":true}', at, row[0], row[1], "raw"))
            conn.execute(q.INSERT_EVENT, (row[0], "running", "done", row[1], None, at))
            conn.execute("COMMIT")
            done += 1
        return done / (time.perf_counter() - started)
    finally:
        conn.close()
