"""`jobdeck backup` in the middle of a crash-campaign round (scripts/campaign.py): two workers run
`rel.campaign` jobs while the campaign's killer SIGKILLs and restarts them and a submitter keeps
submitting batches. Each backup taken meanwhile finishes in bounded time and is the database at
one moment: integrity_check passes, its counts agree with its jobs, its events log replays to its
jobs table (the campaign's own checks), and its log is exactly the source's up to its last cursor.
Afterwards the round drains and the source passes every campaign check: the backups disturbed
nothing."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scripts import campaign_checks as checks
from tests.cli.harness import Ran, jobdeck, read_only
from tests.reliability.test_campaign import load_campaign

WINDOW = 5.0  # seconds of backups while the round runs
BACKUP_BOUND = 5.0  # seconds one backup may take, workers writing all along
BATCH = 10


@dataclass(frozen=True)
class Round:
    """What a campaign round with backups taken in its middle left behind."""

    campaign: ModuleType
    db: Path
    backups: list[tuple[Path, Ran, float]]  # the copy, what the command said, how long it took
    problems: list[str]  # the campaign's checks of the source once the round drained
    kills: int


@pytest.fixture(scope="module")
def mid_round(tmp_path_factory: pytest.TempPathFactory) -> Round:
    campaign = load_campaign()
    folder = tmp_path_factory.mktemp("backup")
    rig = campaign.Rig(folder / "campaign", concurrency=4)
    rig.folder.mkdir()
    empty = rig.folder / "empty.jsonl"
    empty.write_text("")
    # Create and migrate the file before several processes race to open it, as the campaign does.
    assert rig.start("create", "submit", campaign.KIND, "--from", str(empty)).wait(60) == 0

    stop = threading.Event()
    problems: list[str] = []

    def submitter() -> None:
        rng = random.Random(11)
        for n in itertools.count(1):
            if stop.is_set():
                return
            batch = campaign.payloads(rng, n, BATCH)
            problems.extend(campaign.submit(rig, rng, n, batch, kill=False)[1])
            stop.wait(0.1)

    backups: list[tuple[Path, Ran, float]] = []
    thread = threading.Thread(target=submitter, name="submitter")
    try:
        for _ in range(2):
            rig.start_worker()
        with campaign.killer(rig, random.Random(12), (0.2, 0.6)) as killed:
            thread.start()
            deadline = time.monotonic() + WINDOW
            while time.monotonic() < deadline:
                copy = folder / f"copy-{len(backups)}.db"
                started = time.monotonic()
                ran = jobdeck(rig.db, "backup", str(copy), "--json", cwd=folder, timeout=30)
                backups.append((copy, ran, time.monotonic() - started))
                time.sleep(0.1)
            stop.set()
            thread.join(60)
        problems += campaign.drain(rig, time.time() + 60)
        problems += campaign.verify(rig.db, rig.log, rig.kills).violations + rig.new_errors()
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(60)
        rig.reap()
    return Round(campaign, rig.db, backups, problems, killed[0])


def test_backups_taken_mid_round_while_workers_are_sigkilled_are_consistent_snapshots(
    mid_round: Round,
) -> None:
    assert mid_round.kills >= 3, mid_round.kills
    assert len(mid_round.backups) >= 5
    for copy, ran, took in mid_round.backups:
        assert ran.code == 0 and ran.err == "", (copy.name, ran.err)
        assert took < BACKUP_BOUND, (copy.name, took)
    jobs_seen = [ran.json()["jobs"] for _, ran, _ in mid_round.backups]
    assert jobs_seen == sorted(jobs_seen) and jobs_seen[-1] > jobs_seen[0], jobs_seen
    source = events_of(mid_round.db)
    for copy, ran, _ in mid_round.backups:
        assert check_copy(mid_round.campaign, copy, ran.json(), source) == [], copy.name


def test_the_round_itself_passes_every_campaign_check_after_the_backups(mid_round: Round) -> None:
    assert mid_round.problems == [], mid_round.problems[:10]


def test_the_copy_checks_catch_a_torn_copy(mid_round: Round, tmp_path: Path) -> None:
    """The checks can fail: a copy missing an event, with a job the source never had at that
    cursor, or with counts that disagree is each reported."""
    original, ran, _ = mid_round.backups[-1]
    shown, source = ran.json(), events_of(mid_round.db)
    broken = tmp_path / "broken.db"

    def damage(sql: str) -> list[str]:
        shutil.copy(original, broken)
        with closing(sqlite3.connect(broken)) as conn:
            conn.execute(sql)
            conn.commit()
        return check_copy(mid_round.campaign, broken, shown, source)

    assert damage("SELECT 1") == []
    found = damage("DELETE FROM events WHERE cursor = (SELECT max(cursor) - 3 FROM events)")
    assert any("is not the source's up to cursor" in v for v in found), found
    found = damage("UPDATE counts SET n = n + 1 WHERE status = 'done'")
    assert any("the counts table says" in v for v in found), found
    newest = "WHERE id = (SELECT max(id) FROM jobs)"
    found = damage(f"UPDATE jobs SET status = iif(status = 'done', 'failed', 'done') {newest}")
    assert any("the last event says" in v for v in found), found


def requeued(job: sqlite3.Row, attempts: list[sqlite3.Row]) -> Any:
    """The job as the campaign's replay check expects to find it. The campaign checks a drained
    round, where each job ends done or failed with the reason of its last event; a backup also
    catches jobs requeued for a retry or after a lost lease, whose reason is their last
    attempt's (a queued job has none). Such a job is compared with that attempt's reason."""
    if job["status"] != "queued" or not attempts or attempts[-1]["reason"] is None:
        return job
    return dict(job) | {"reason_code": json.loads(attempts[-1]["reason"])["code"]}


def events_of(db: Path) -> list[tuple[Any, ...]]:
    with closing(read_only(db)) as conn:
        return [tuple(r) for r in conn.execute("SELECT * FROM events ORDER BY cursor")]


def check_copy(
    campaign: ModuleType, copy: Path, shown: dict[str, Any], source: list[tuple[Any, ...]]
) -> list[str]:
    """What is wrong with a backup: the campaign's per-job checks (attempts, and the events log
    replaying to the job), plus the snapshot's own: one moment of the source, counts included."""
    with closing(read_only(copy)) as conn:
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        jobs = {r["id"]: r for r in conn.execute("SELECT * FROM jobs")}
        attempts: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for row in conn.execute("SELECT * FROM attempts ORDER BY id"):
            attempts[row["job_id"]].append(row)
        events: dict[str, list[sqlite3.Row]] = defaultdict(list)
        log = [tuple(r) for r in conn.execute("SELECT * FROM events ORDER BY cursor")]
        for row in conn.execute("SELECT * FROM events ORDER BY cursor"):
            events[row["job_id"]].append(row)
        counted = {s: n for s, n in conn.execute("SELECT status, n FROM counts") if n}
    report = campaign.Report()
    if check != ["ok"]:
        report.fail(f"integrity_check: {check[:3]}")
    for job_id, job in jobs.items():
        checks._check_attempts(report, job, attempts[job_id])
        checks._check_events(
            report, requeued(job, attempts[job_id]), attempts[job_id], events[job_id]
        )
    statuses = Counter(job["status"] for job in jobs.values())
    if counted != dict(statuses):
        report.fail(f"the counts table says {counted}, the jobs table {dict(statuses)}")
    if (shown["jobs"], {s: n for s, n in shown["counts"].items() if n}) != (len(jobs), counted):
        report.fail(f"the command printed {shown}, the copy holds {len(jobs)} jobs")
    last = log[-1][0] if log else 0
    if log != [e for e in source if e[0] <= last]:
        report.fail(f"the copy's log is not the source's up to cursor {last}")
    created = {e[1] for e in source if e[0] <= last and e[2] is None}
    if set(jobs) != created:
        report.fail(f"{len(set(jobs) ^ created)} jobs differ from those created by cursor {last}")
    return report.violations
