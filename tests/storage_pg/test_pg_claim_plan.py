"""The claim stays one walk of one index in its own order on PostgreSQL too: with thousands of
queued jobs of several priorities, all ready, and fresh statistics, the plan of every claim
statement walks `jobs_claim`, with no Sort node and no sequential scan of jobs."""

from __future__ import annotations

import json

import asyncpg
import pytest

from jobdeck.storage.postgres import queries as q
from jobdeck.storage.postgres.store import BULK, PostgresStore
from tests.storage.conftest import make_job

NOW = 1e12  # every queued job is ready: the claim of a busy queue
CLAIMS = {
    "claim any": (q.CLAIM_ANY, ("w", NOW + 30, NOW, 8)),
    "claim kinds": (q.CLAIM_KINDS, ("w", NOW + 30, NOW, 8, ["a"])),
    "candidates": (q.SELECT_CANDIDATES, (NOW, None, ["b"], 8)),
}


@pytest.fixture
async def conn(pg_url: str) -> asyncpg.Connection:
    await (await PostgresStore.open(pg_url)).close()
    c = await asyncpg.connect(pg_url, server_settings={"search_path": "jobdeck"})
    await c.execute(
        """
        INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts, idempotency_key,
                          dedupe_key, created_at, updated_at, run_after, priority)
        SELECT lpad(i::text, 26, '0'), 'a', '{}', CASE WHEN i % 3 = 0 THEN 'done' ELSE 'queued'
               END, 0, 1, 'k' || i, 'k' || i, 0, 0, i, i % 7 - 3
        FROM generate_series(1, 30000) AS i
        """
    )
    await c.execute("ANALYZE")
    yield c
    await c.close()


async def plan(conn: asyncpg.Connection, sql: str, args: tuple) -> dict:
    async with conn.transaction():
        # EXPLAIN of a data-modifying statement plans it without running it.
        rows = await conn.fetch("EXPLAIN (FORMAT JSON) " + sql, *args)
    tree: dict = json.loads(rows[0][0])[0]["Plan"]
    return tree


def assert_walks_jobs_claim(tree: dict, walk_from: dict) -> None:
    """Below `walk_from` jobs_claim is read and nothing is sorted; nowhere is jobs scanned."""
    text = json.dumps(tree)
    below = walk(walk_from)
    assert any(n.get("Index Name") == "jobs_claim" for n in below), text
    assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in below), text
    seq = [
        n for n in walk(tree) if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "jobs"
    ]
    assert not seq, text


@pytest.mark.parametrize("name", sorted(CLAIMS))
async def test_a_claim_walks_jobs_claim_in_order_without_a_sort_or_a_seq_scan(
    conn: asyncpg.Connection, name: str
) -> None:
    tree = await plan(conn, *CLAIMS[name])
    assert_walks_jobs_claim(tree, tree)


def walk(node: dict) -> list[dict]:
    found = [node]
    for child in node.get("Plans", []):
        found += walk(child)
    return found


# A worker's turn as one statement (nothing finished here: the claim is what walks jobs):
# changes $1..$26 empty, then worker, lease end, now, limit (and kinds).
_NO_CHANGES = ([],) * 26
TURNS = {
    "turn any": (q.FINISH_AND_CLAIM_ANY, (*_NO_CHANGES, "w", NOW + 30, NOW, 8)),
    "turn kinds": (q.FINISH_AND_CLAIM_KINDS, (*_NO_CHANGES, "w", NOW + 30, NOW, 8, ["a"])),
}


@pytest.mark.parametrize("name", sorted(TURNS))
async def test_a_turn_claims_by_walking_jobs_claim_without_a_seq_scan(
    conn: asyncpg.Connection, name: str
) -> None:
    tree = await plan(conn, *TURNS[name])
    locking = [n for n in walk(tree) if n["Node Type"] == "LockRows"]
    assert len(locking) == 1, json.dumps(tree)  # the claim's walk; the rest sorts its own rows
    assert_walks_jobs_claim(tree, locking[0])


# What asks "when" of the queued jobs reads them by kind: a probe (or a short walk) of
# `jobs_kind_queued` per kind with queued jobs, never a scan of jobs.
WHEN = {
    "next ready": (q.NEXT_READY, ()),
    "scheduled": (q.SELECT_SCHEDULED, (0.0, 50)),
    "oldest queued": (q.SELECT_OLDEST_QUEUED, ()),
}


@pytest.mark.parametrize("name", sorted(WHEN))
async def test_the_queued_jobs_times_are_read_through_jobs_kind_queued(
    conn: asyncpg.Connection, name: str
) -> None:
    tree = await plan(conn, *WHEN[name])
    text = json.dumps(tree)
    assert any(n.get("Index Name") == "jobs_kind_queued" for n in walk(tree)), text
    assert not any(
        n.get("Relation Name") == "jobs" and n["Node Type"] == "Seq Scan" for n in walk(tree)
    ), text


async def test_after_a_bulk_submit_into_a_new_database_the_claim_walks_jobs_claim(
    pg_empty_url: str,
) -> None:
    """Autovacuum counts a new table's rows up to a minute later: until then the planner takes
    `jobs` for empty and sorts every queued job on each claim, unless the store counted them
    after the batch (`PostgresStore.insert`, BULK jobs or more)."""
    store = await PostgresStore.open(pg_empty_url)
    try:
        await store.insert([make_job(i, run_after=0.0) for i in range(BULK + 500)])
    finally:
        await store.close()
    c = await asyncpg.connect(pg_empty_url, server_settings={"search_path": "jobdeck"})
    try:
        assert await c.fetchval(q.JOBS_COUNTED) >= BULK
        tree = await plan(c, q.CLAIM_ANY, ("w", NOW + 30, NOW, 8))
        assert_walks_jobs_claim(tree, tree)
    finally:
        await c.close()
