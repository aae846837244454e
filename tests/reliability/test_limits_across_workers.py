"""Limits hold across worker processes, on SQLite and on PostgreSQL: three workers of eight
slots each never run more than a kind's concurrency at once (replaying the events log in cursor
order, which is commit order), never claim more than a kind's rate in any window, and claim
other kinds while a limited one waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.cli.harness import REPO, finish, jobdeck, query, reaped, spawn
from tests.reliability.limited_kinds import CONCURRENCY
from tests.storage_pg.conftest import sql

HANDLERS = ("--handlers", "tests.reliability.limited_kinds:registry")
WORKERS = 3
EVENTS = """
SELECT e.cursor, j.kind, e.from_status, e.to_status, e.at
FROM events AS e JOIN jobs AS j ON j.id = e.job_id
ORDER BY e.cursor
"""


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    return str(request.getfixturevalue("pg_url"))


def rows(db: str, statement: str) -> list[tuple[Any, ...]]:
    if "://" in db:
        return [tuple(r) for r in asyncio.run(sql(db, statement))]
    return [tuple(r) for r in query(Path(db), statement)]


def submit(db: str, kind: str, n: int) -> None:
    lines = "".join(json.dumps({"kind": kind, "n": i}) + "\n" for i in range(n))
    ran = jobdeck(db, *HANDLERS, "submit", kind, "--from", "-", stdin=lines, cwd=REPO)
    assert ran.code == 0, ran.err


def run_workers(db: str) -> None:
    workers = [
        spawn(db, *HANDLERS, "worker", "--burst", "--concurrency", "8", cwd=REPO)
        for _ in range(WORKERS)
    ]
    with reaped(*workers):
        ran = [finish(w, timeout=60) for w in workers]
    assert [r.code for r in ran] == [0] * WORKERS, [r.err for r in ran]


def most_running(events: Sequence[tuple[Any, ...]], kind: str) -> int:
    running = most = 0
    for _, k, was, becomes, _ in events:
        if k != kind:
            continue
        running += (becomes == "running") - (was == "running")
        most = max(most, running)
    return most


def test_three_workers_never_run_more_than_a_kinds_concurrency(db: str) -> None:
    submit(db, "lim.capped", 60)
    submit(db, "lim.free", 60)
    run_workers(db)
    events = rows(db, EVENTS)
    assert rows(db, "SELECT status, count(*) FROM jobs GROUP BY status") == [("done", 120)]
    assert most_running(events, "lim.capped") == CONCURRENCY
    # The unlimited kind ran many at once beside it: the limit is the kind's, not everyone's.
    assert most_running(events, "lim.free") > CONCURRENCY


def test_three_workers_never_claim_more_than_a_kinds_rate_in_any_window(db: str) -> None:
    submit(db, "lim.metered", 25)
    submit(db, "lim.free", 30)
    run_workers(db)
    events = rows(db, EVENTS)
    assert rows(db, "SELECT status, count(*) FROM jobs GROUP BY status") == [("done", 55)]
    claims = sorted(at for _, k, _, to, at in events if k == "lim.metered" and to == "running")
    assert len(claims) == 25
    # 10/s: the 11th claim after any claim comes a whole second after it, or later.
    gaps = [later - first for first, later in zip(claims, claims[10:], strict=False)]
    assert min(gaps) >= 1.0 - 1e-6, gaps
    # ...and the first ten went at once, so the window was full: this test can fail.
    assert claims[9] - claims[0] < 1.0
    # The free jobs, queued behind the metered ones, did not wait for the rate.
    free_done = max(at for _, k, _, to, at in events if k == "lim.free" and to == "done")
    assert free_done < claims[-1]
