"""The raw sqlite3 floors: what the same work costs with no engine around it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite.schema import migrations

_CLAIM_ONE = """
UPDATE jobs SET status = 'running', attempt = attempt + 1, lease_owner = ?,
                lease_expires_at = ?, updated_at = ?
WHERE id = (SELECT id FROM jobs INDEXED BY jobs_claim
            WHERE status = 'queued' AND run_after <= ?
            ORDER BY priority DESC, run_after, id LIMIT 1)
RETURNING id, attempt
"""
_COMPLETE_ONE = """
UPDATE jobs SET status = 'done', result = ?, updated_at = ?, lease_owner = NULL,
                lease_expires_at = NULL
WHERE id = ? AND status = 'running' AND attempt = ? AND lease_owner = ?
"""


def _connect(path: Path) -> sqlite3.Connection:
    """A connection with the settings of jobdeck's own writers (WAL, synchronous=NORMAL, the
    checkpoint backstop), so a floor differs from jobdeck only by what jobdeck adds."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in q.PRAGMAS_WRITE:
        conn.execute(pragma)
    return conn


def _jobdeck_schema(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
    conn.execute("BEGIN")
    for migration in migrations():
        for statement in migration.statements:
            conn.execute(statement)
    conn.execute("COMMIT")
    return conn


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


def _new_job_rows(n: int, now: float) -> list[tuple[object, ...]]:
    """The values of jobdeck's insert of a new job: a sortable id, a hashed key (as a submit
    without a key gets), so the rows land in the indexes where jobdeck's would."""
    return [
        (f"{i:026d}", "bench.noop", json.dumps({"n": i}), 1,
         "auto:" + hashlib.sha256(str(i).encode()).hexdigest()[:32], now, 0)
        for i in range(n)
    ]  # fmt: skip


def schema_executemany_rate(folder: Path, n: int) -> float:
    """jobdeck's own tables and indexes, filled with executemany through jobdeck's own insert
    statements: each job row, its creation event and the count, one transaction per 10,000.
    What batch submit costs with no Python work at all."""
    conn = _jobdeck_schema(folder / "raw-schema.db")
    try:
        rows = _new_job_rows(n, time.time())
        events = [(row[0], row[5]) for row in rows]
        started = time.perf_counter()
        for i in range(0, n, 10_000):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(q.INSERT_NEW_JOB, rows[i : i + 10_000])
            conn.executemany(q.INSERT_NEW_EVENT, events[i : i + 10_000])
            conn.execute(q.ADD_TO_COUNT, (len(rows[i : i + 10_000]), "queued"))
            conn.execute("COMMIT")
        return n / (time.perf_counter() - started)
    finally:
        conn.close()


def single_submit_rate(folder: Path, n: int) -> float:
    """One committed transaction per job on jobdeck's schema, as one caller submitting one job
    at a time: the row, its creation event, the count. No gates, no Python objects."""
    conn = _jobdeck_schema(folder / "raw-single.db")
    try:
        rows = _new_job_rows(n, time.time())
        started = time.perf_counter()
        for row in rows:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(q.INSERT_NEW_JOB, row)
            conn.execute(q.INSERT_NEW_EVENT, (row[0], row[5]))
            conn.execute(q.ADD_TO_COUNT, (1, "queued"))
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
        conn.executemany(q.INSERT_NEW_JOB, _new_job_rows(n, now))
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
