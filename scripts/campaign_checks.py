"""The checks a crash or fault campaign runs after each round, on rows of any backend.

`scripts/campaign.py` (SQLite, SIGKILLs) and `scripts/pg_campaign.py` (PostgreSQL, SIGKILLs,
immediate restarts and terminated sessions) read the jobs, attempts, events and counts tables
in one snapshot and hand the rows to `check_rows`, with the execution log the campaign kinds
write (tests/reliability/kinds.py): every guarantee the README states is a violation here.
A row is anything indexed by column name (Row, asyncpg.Record).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from jobdeck.core.contract import TRANSITIONS, Status


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


# mode -> the reason codes a failed job of that mode may end with (lost_lease: killed too often)
FAILED_WITH = {
    "ok": {"lost_lease"},
    "retry_once": {"lost_lease", "retries_exhausted"},
    "retry_always": {"lost_lease", "retries_exhausted"},
    "terminal": {"lost_lease", "campaign_terminal"},
    "deny": {"campaign_denied"},
}


@dataclass(frozen=True)
class Run:
    """One execution of a handler, from the campaign log."""

    job: str
    attempt: int
    pid: int
    start: float
    end: float | None = None
    closed_by: str | None = None  # end, raise, cancel; None when the process was killed


@dataclass
class Report:
    """What `verify` found: violations break a guarantee; the rest is information."""

    violations: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lost_leases: int = 0
    rerun_completions: int = 0  # a completed run whose result a SIGKILL kept from being recorded
    exec_overlaps: int = 0  # a run that started before a stalled one of the same job ended

    def fail(self, message: str) -> None:
        self.violations.append(message)


def read_runs(log: Path, kills: dict[int, float]) -> dict[str, list[Run]]:
    """Every handler execution per job; a run without a closing line ends when its process was
    killed (or never, if it was not)."""
    opened: dict[tuple[str, int, int], Run] = {}
    runs: dict[str, list[Run]] = defaultdict(list)
    if not log.exists():
        return runs
    for line in log.read_text().splitlines():
        job, attempt, pid, phase, at = line.split()
        key = (job, int(attempt), int(pid))
        if phase == "start":
            opened[key] = Run(job, int(attempt), int(pid), float(at))
            continue
        run = opened.pop(key)
        runs[job].append(Run(run.job, run.attempt, run.pid, run.start, float(at), phase))
    for run in opened.values():
        runs[run.job].append(Run(run.job, run.attempt, run.pid, run.start, kills.get(run.pid)))
    for trail in runs.values():
        trail.sort(key=lambda r: r.start)
    return runs


def _pid(worker: str | None) -> int:
    """The pid inside a worker name `host:pid:random`."""
    return int(str(worker).split(":")[-2])


# Every (from, to) an event may record: a job's creation (queued, or failed when a gate denies
# it), then the arrows of the contract's transition table.
LEGAL = {(None, Status.QUEUED.value), (None, Status.FAILED.value)} | {
    (before.value, after.value) for (before, _), after in TRANSITIONS.items()
}


def check_rows(
    report: Report,
    jobs: Mapping[str, Row],
    attempts: Mapping[str, Sequence[Row]],
    events: Mapping[str, Sequence[Row]],
    counted: Mapping[str, int],
    runs: Mapping[str, Sequence[Run]],
    *,
    drained: bool = True,
) -> Report:
    """Check one snapshot of the tables (attempts by id, events by cursor, grouped by job) and
    the runs of the execution log; violations go into `report`, which is returned."""
    actual = Counter(job["status"] for job in jobs.values())
    report.statuses = actual
    if {s: n for s, n in counted.items() if n} != dict(actual):
        report.fail(f"the counts table says {dict(counted)}, the jobs table {dict(actual)}")
    if set(events) != set(jobs):
        report.fail(f"{len(set(events) ^ set(jobs))} jobs and event trails do not match up")
    for job_id, job in jobs.items():
        _check_job(
            report,
            job,
            attempts.get(job_id, []),
            events.get(job_id, []),
            runs.get(job_id, []),
            drained,
        )
    return report


def grouped(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Rows by their `job_id`, in the order given."""
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row["job_id"]].append(row)
    return out


def _check_job(
    report: Report,
    job: Row,
    attempts: Sequence[Row],
    events: Sequence[Row],
    runs: Sequence[Run],
    drained: bool,
) -> None:
    jid, status = job["id"], job["status"]
    payload = json.loads(job["payload"])
    fail = report.fail
    if drained and status not in ("done", "failed"):
        fail(f"{jid}: still {status} after the round drained (lost or stuck)")
    if status == "failed" and (job["reason"] is None or job["reason_code"] is None):
        fail(f"{jid}: failed without a reason")
    if status == "failed" and job["reason_code"] not in FAILED_WITH[payload["mode"]]:
        fail(f"{jid}: a {payload['mode']} job failed with {job['reason_code']}")
    if status == "done" and json.loads(job["result"]) != {
        "attempt": job["attempt"],
        "n": payload["n"],
    }:
        fail(f"{jid}: done with the wrong result {job['result']}")
    if payload["mode"] == "deny" and (status != "failed" or attempts):
        fail(f"{jid}: a denied job ran or was not failed")
    _check_attempts(report, job, attempts)
    _check_events(report, job, attempts, events)
    _check_runs(report, job, attempts, runs)


def _check_attempts(report: Report, job: Row, attempts: Sequence[Row]) -> None:
    jid, status = job["id"], job["status"]
    ns = [a["n"] for a in attempts]
    if ns != list(range(1, len(attempts) + 1)) or job["attempt"] != len(attempts):
        report.fail(f"{jid}: attempt numbers {ns} but the job is on attempt {job['attempt']}")
    for a in attempts:
        if a["outcome"] == "lost_lease":
            report.lost_leases += 1
            expired = json.loads(a["reason"])["evidence"]["lease_expired_at"]
            if not expired < a["finished_at"]:
                report.fail(f"{jid}: attempt {a['n']} was recovered before its lease ended")
    for a, b in pairwise(attempts):
        if a["finished_at"] is None or b["started_at"] < a["finished_at"]:
            report.fail(f"{jid}: attempts {a['n']} and {b['n']} overlap")
        if a["outcome"] not in ("retry", "lost_lease"):
            report.fail(f"{jid}: attempt {a['n']} ended {a['outcome']} but was not the last")
    outcomes = Counter(a["outcome"] for a in attempts)
    if status == "done" and (outcomes["done"] != 1 or attempts[-1]["outcome"] != "done"):
        report.fail(f"{jid}: done, with attempt outcomes {dict(outcomes)}")
    if status != "done" and outcomes["done"]:
        report.fail(f"{jid}: {status}, yet an attempt is recorded done")
    if status == "failed" and attempts and attempts[-1]["outcome"] not in ("failed", "lost_lease"):
        report.fail(f"{jid}: failed, but its last attempt ended {attempts[-1]['outcome']}")
    if status in ("done", "failed") and job["lease_owner"] is not None:
        report.fail(f"{jid}: {status} but still leased to {job['lease_owner']}")


_CLOSES = {"done": "done", "failed": "failed", "retry": "queued", "lost_lease": None}


def _check_events(report: Report, job: Row, attempts: Sequence[Row], events: Sequence[Row]) -> None:
    """The log replays to the job: its creation, then a claim and a close per attempt."""
    jid = job["id"]
    if not events or events[0]["from_status"] is not None:
        report.fail(f"{jid}: the event trail does not start with the job's creation")
        return
    expected: list[tuple[str | None, str, int]] = [(None, events[0]["to_status"], 0)]
    for i, a in enumerate(attempts):
        expected.append(("queued", "running", a["n"]))
        if a["outcome"] == "running":
            continue
        to = _CLOSES[a["outcome"]]
        if to is None:  # a lost lease requeues, or fails the job once its attempts are spent
            to = "failed" if i == len(attempts) - 1 and job["status"] == "failed" else "queued"
        expected.append(("running", to, a["n"]))
    seen = [(e["from_status"], e["to_status"], e["attempt"]) for e in events]
    illegal = [(a, b) for a, b, _ in seen if (a, b) not in LEGAL]
    if illegal:
        report.fail(f"{jid}: events {illegal} are no arrow of the transition table")
    if seen != expected:
        report.fail(f"{jid}: events {seen} do not replay its attempts {expected}")
    last = events[-1]
    if (last["to_status"], last["reason_code"]) != (job["status"], job["reason_code"]):
        report.fail(f"{jid}: the last event says {last['to_status']}, the job {job['status']}")


def _check_runs(report: Report, job: Row, attempts: Sequence[Row], runs: Sequence[Run]) -> None:
    """Each execution belongs to a claimed attempt; a completed one is recorded done, or its
    worker died before it could record it (lost lease); nothing completes after `done`."""
    jid = job["id"]
    by_run = {(a["n"], _pid(a["worker"])): a for a in attempts}
    completions = 0
    for run in runs:
        attempt = by_run.get((run.attempt, run.pid))
        if attempt is None:
            report.fail(f"{jid}: pid {run.pid} ran attempt {run.attempt} without claiming it")
            continue
        if run.closed_by != "end":
            continue
        if attempt["outcome"] == "done":
            completions += 1
        elif attempt["outcome"] == "lost_lease":
            report.rerun_completions += 1
        else:
            report.fail(
                f"{jid}: attempt {run.attempt} completed but was recorded {attempt['outcome']}"
            )
    if job["status"] == "done" and completions != 1:
        report.fail(f"{jid}: done, and {completions} runs completed the recorded attempt")
    for a, b in pairwise(runs):
        if a.end is None or b.start < a.end:
            report.exec_overlaps += 1
