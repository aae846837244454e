#!/usr/bin/env python3
"""The PostgreSQL fault campaign: workers SIGKILLed, the server stopped mid-transaction, sessions
ended under the workers' feet, round after round.

    .venv/bin/python scripts/pg_campaign.py --rounds 30 --workers 2 --jobs-per-round 60 --seed 1

It starts a throwaway PostgreSQL cluster of its own (tests/pg_cluster.py: it must be able to
stop and start the server). Each round a submitter stores a batch of `rel.campaign` jobs (the
SQLite campaign's mix: most succeed, some retry once, some retry forever, some fail terminally,
some are denied, a few run long) while the workers (`jobdeck worker --lease 2`) run them, and
once they are busy one fault strikes, in turn:

- `sigkill`: a random worker is SIGKILLed, and a new one started;
- `restart`: `pg_ctl stop -m immediate` (every session ends, mid-transaction or not), a pause,
  and the server started again (recovering from its WAL);
- `terminate`: `pg_terminate_backend` on every session of jobdeck's (`application_name`).

Once the round has drained, the database is checked with the SQLite campaign's checks
(scripts/campaign_checks.py: no job lost or left running, none completed twice, attempts that
never overlap, every event an arrow of the transition table and the log replaying to the jobs
table, the counts table equal to the jobs table) and each worker's stderr since the last round:
still running, no traceback, and at most one "store unreachable" warning (one outage a round).

Prints one line per round and the tally; exits 1 on any violation (the folder with the
execution log, the server log and every process's stderr is kept then), 0 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a file: import `scripts.…` and `tests.…`
    sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402

from scripts.campaign import (  # noqa: E402
    KIND,
    PROCESS_TIMEOUT,
    Options,
    Rig,
    _env,
    drain,
    payloads,
)
from scripts.campaign import parse as parse_options  # noqa: E402
from scripts.campaign_checks import Report, check_rows, grouped, read_runs  # noqa: E402
from tests import pg_cluster  # noqa: E402

LEASE = 2.0
FAULTS = ("sigkill", "restart", "terminate")
UNREACHABLE = "store unreachable"
LATE = re.compile(r"(\d+) finished attempt\(s\) not recorded")
# The campaign's own connections: retried while the server restarts (a round's fault is over
# before its checks run, so this is slack for a slow start).
QUERY_PATIENCE = 60.0
TERMINATE = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = 'jobdeck' AND pid <> pg_backend_pid()
"""


# -- the database ------------------------------------------------------------------------------
async def _fetch(url: str, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, timeout=10, server_settings={"search_path": "jobdeck"})
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run one query on a connection of the campaign's own, again while the server restarts."""
    deadline = time.monotonic() + QUERY_PATIENCE
    while True:
        try:
            return asyncio.run(_fetch(url, sql, args))
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def _snapshot(url: str) -> tuple[list[asyncpg.Record], ...]:
    conn = await asyncpg.connect(url, timeout=10, server_settings={"search_path": "jobdeck"})
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return (
                list(await conn.fetch("SELECT * FROM jobs")),
                list(await conn.fetch("SELECT * FROM attempts ORDER BY id")),
                list(await conn.fetch("SELECT * FROM events ORDER BY cursor")),
                list(await conn.fetch("SELECT status, n FROM counts")),
            )
    finally:
        await conn.close()


def verify(url: str, log: Path, kills: dict[int, float], *, drained: bool = True) -> Report:
    """The campaign checks on one snapshot of the PostgreSQL tables and the execution log."""
    jobs, attempts, events, counts = asyncio.run(_snapshot(url))
    counted = {str(r["status"]): int(r["n"]) for r in counts}
    return check_rows(
        Report(),
        {r["id"]: r for r in jobs},
        grouped(attempts),
        grouped(events),
        counted,
        read_runs(log, kills),
        drained=drained,
    )


# -- the processes -----------------------------------------------------------------------------
@dataclass
class PgRig(Rig):
    """The SQLite campaign's rig (processes, kills) on a PostgreSQL URL."""

    RUNNING_PAST: ClassVar[str] = (
        "SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < $1"
    )

    url: str = ""

    @property
    def target(self) -> str:
        return self.url

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in fetch(self.url, sql, *params)]

    def new_stderr(self) -> dict[str, str]:
        """What each process wrote to stderr since the last call, by file name."""
        out = {}
        for path in sorted(self.folder.glob("*.err")):
            with open(path, "rb") as file:
                file.seek(self.seen_err.get(path, 0))
                out[path.name] = file.read().decode(errors="replace")
                self.seen_err[path] = file.tell()
        return out


def submit(rig: PgRig, round_: int, batch: list[dict[str, Any]]) -> list[str]:
    source = rig.folder / f"round-{round_}.jsonl"
    source.write_text("".join(f"{json.dumps(p)}\n" for p in batch))
    proc = rig.start("submitter", "submit", KIND, "--from", str(source))
    code = proc.wait(PROCESS_TIMEOUT)
    stored = rig.query("SELECT count(*) FROM jobs WHERE (payload->>'round')::int = $1", (round_,))
    if code != 0 or stored[0][0] != len(batch):
        return [f"round {round_}: submit exited {code}, {stored[0][0]} of {len(batch)} stored"]
    return []


def strike(
    fault: str, rig: PgRig, cluster: pg_cluster.Cluster, rng: random.Random
) -> tuple[str, float]:
    """Apply one fault; returns a note for the round line and how long the server was down."""
    if fault == "sigkill":
        rig.kill_one(rng)
        return "a worker SIGKILLed", 0.0
    if fault == "restart":
        began = time.monotonic()
        cluster.crash()
        time.sleep(rng.uniform(0.2, 1.5))
        cluster.restart()
        down = time.monotonic() - began
        return f"server stopped -m immediate, back after {down:.1f} s", down
    ended = rig.query(TERMINATE)[0][0]
    return f"{ended} sessions terminated", 0.0


@dataclass
class Tally:
    rounds: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    jobs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    lost_leases: int = 0
    late: int = 0
    rerun_completions: int = 0
    warnings: int = 0
    violations: list[str] = field(default_factory=list)

    def line(self) -> str:
        faults = ", ".join(f"{self.faults[f]} {f}" for f in FAULTS)
        return (
            f"{self.rounds} rounds ({faults}), {self.jobs} jobs: {self.statuses['done']} done, "
            f"{self.statuses['failed']} failed, {self.lost_leases} lost leases, {self.late} late "
            f"results refused by their compare-and-set, {self.rerun_completions} completions "
            f"lost to a fault, {self.warnings} 'store unreachable' warnings, "
            f"{len(self.violations)} violations"
        )


def check_workers(rig: PgRig, tally: Tally) -> list[str]:
    """Each worker still runs; its stderr since the last round has no traceback and at most one
    outage warning (one fault a round); counts the late results it logged."""
    problems = []
    for name, text in rig.new_stderr().items():
        warned = sum(UNREACHABLE in line for line in text.splitlines())
        tally.warnings += warned
        tally.late += sum(int(m.group(1)) for m in LATE.finditer(text))
        if warned > 1:
            problems.append(f"{name}: {warned} '{UNREACHABLE}' warnings for one outage")
        if "Traceback" in text:
            problems.append(f"{name}: a traceback: {text.split('Traceback', 1)[1][:300]!r}")
    with rig.lock:
        exited = [p for p in rig.workers if p.poll() is not None]
    for proc in exited:
        problems.append(f"worker pid {proc.pid} exited {proc.returncode} during the round")
        with rig.lock:
            rig.workers.remove(proc)
        rig.start_worker()
    return problems


# -- the campaign ------------------------------------------------------------------------------
def campaign(opts: Options, say: Callable[[str], None]) -> int:
    rng = random.Random(opts.seed)
    folder = opts.folder or Path(tempfile.mkdtemp(prefix="jobdeck-pg-campaign-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        # Durable: with synchronous_commit off (the test suite's setting) an immediate stop loses
        # commits the server had already acknowledged, e.g. a claim whose job a worker then runs.
        cluster = pg_cluster.start(durable=True)
    except pg_cluster.Unavailable as exc:
        say(f"pg_campaign: cannot start PostgreSQL: {exc}")
        return 2
    rig = PgRig(folder, opts.concurrency, LEASE, url=cluster.url())
    tally = Tally()
    started = time.monotonic()
    say(
        f"pg_campaign: seed {opts.seed}, {opts.rounds} rounds, {opts.workers} workers, "
        f"{opts.jobs_per_round} jobs a round, lease {LEASE:g} s, in {folder}"
    )
    try:
        # Create and migrate the schema before the workers race to.
        subprocess.run(
            rig.command("submit", KIND, "--from", "-"),
            cwd=REPO,
            env=_env(rig.log),
            input=b"",
            check=True,
            capture_output=True,
            timeout=PROCESS_TIMEOUT,
        )
        for _ in range(opts.workers):
            rig.start_worker()
        for r in range(1, opts.rounds + 1):
            one_round(rig, cluster, rng, r, opts, tally, say)
    finally:
        rig.reap()
        shutil.copy(cluster.folder / "server.log", folder / "server.log")
        cluster.stop()
    elapsed = time.monotonic() - started
    if tally.violations:
        say(f"verdict: FAILED — {tally.line()} ({elapsed:.0f} s); evidence kept in {folder}")
        for v in tally.violations[:20]:
            say(f"  {v}")
        return 1
    say(f"verdict: ok — {tally.line()} ({elapsed:.0f} s)")
    if opts.folder is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def one_round(
    rig: PgRig,
    cluster: pg_cluster.Cluster,
    rng: random.Random,
    r: int,
    opts: Options,
    tally: Tally,
    say: Callable[[str], None],
) -> None:
    t0 = time.monotonic()
    fault = FAULTS[(r - 1) % len(FAULTS)]
    batch = payloads(rng, r, opts.jobs_per_round)
    problems = submit(rig, r, batch)
    time.sleep(rng.uniform(0.2, 0.8))  # the workers are busy: some handlers mid-run
    note, _ = strike(fault, rig, cluster, rng)
    problems += drain(rig, time.time() + opts.round_timeout)
    report = verify(rig.url, rig.log, rig.kills)
    warned_before, late_before = tally.warnings, tally.late
    problems += report.violations + check_workers(rig, tally)
    tally.rounds += 1
    tally.faults[fault] += 1
    tally.jobs += len(batch)
    tally.statuses = report.statuses
    tally.lost_leases = report.lost_leases
    tally.rerun_completions = report.rerun_completions
    tally.violations += problems
    s = report.statuses
    say(
        f"round {r:>3}/{opts.rounds}: {fault}: {note}; {len(batch)} jobs, "
        f"{time.monotonic() - t0:.1f} s; {s['done']} done, {s['failed']} failed so far, "
        f"{tally.warnings - warned_before} outage warnings, {tally.late - late_before} late "
        f"results refused — {'ok' if not problems else f'{len(problems)} VIOLATIONS'}"
    )
    for p in problems[:5]:
        say(f"    {p}")


def parse(argv: Sequence[str] | None) -> Options:
    return parse_options(
        argv, description=__doc__, rounds=30, workers=2, jobs_per_round=60, round_timeout=90.0
    )


def main(argv: Sequence[str] | None = None, say: Callable[[str], None] | None = None) -> int:
    """Run the campaign; returns the exit code (0 clean, 1 a violation, 2 no PostgreSQL)."""
    return campaign(parse(argv), say or (lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
