#!/usr/bin/env python3
"""The crash campaign: worker processes SIGKILLed at random while they run jobs, for many rounds.

    .venv/bin/python scripts/campaign.py --rounds 50 --workers 3 --jobs-per-round 100 --seed 1

Each round a submitter (`jobdeck submit --from`, SIGKILLed mid-batch in some rounds) stores a
batch of `rel.campaign` jobs (tests/reliability/kinds.py: most succeed, some retry once, some
retry forever, some fail terminally, some are denied, a few run long) while N workers
(`jobdeck worker --lease 1`) run them and a killer SIGKILLs a random worker at random moments
and starts a new one. Once the round has drained, the database is checked against every
guarantee the README states (see `verify`); at the end every worker is SIGKILLed at once in the
middle of a last batch and a rescuer (`worker --burst`) must finish it alone.

Prints one line per round and a verdict; exits 1 on any violation (the folder with the database,
the execution log and every process's stderr is kept then), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a file: import the checks beside it as `scripts.…`
    sys.path.insert(0, str(REPO))

from scripts.campaign_checks import Report, check_rows, grouped, read_runs  # noqa: E402

HANDLERS = "tests.reliability.kinds:registry"
KIND = "rel.campaign"
LEASE = 1.0
# How long past its lease a running job may wait for a live worker to recover it before the
# campaign calls it stuck (recovery runs every lease/3 in every worker; this is slack for load).
STUCK_AFTER = 5.0
PROCESS_TIMEOUT = 120.0
USER_FACING_ERRORS = ("database is locked", "Traceback")


# -- the checks --------------------------------------------------------------------------------
def verify(db: Path, log: Path, kills: dict[int, float], *, drained: bool = True) -> Report:
    """Check the database and the execution log against the guarantees. With `drained`, every
    job must have finished (the round is over)."""
    report = Report()
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("BEGIN")  # one snapshot for every query below
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            report.fail(f"integrity_check: {check[:3]}")
        jobs = {r["id"]: r for r in conn.execute("SELECT * FROM jobs")}
        attempts = grouped(conn.execute("SELECT * FROM attempts ORDER BY id").fetchall())
        events = grouped(conn.execute("SELECT * FROM events ORDER BY cursor").fetchall())
        counted = dict(tuple(r) for r in conn.execute("SELECT status, n FROM counts"))
        conn.execute("COMMIT")
    return check_rows(
        report, jobs, attempts, events, counted, read_runs(log, kills), drained=drained
    )


# -- the processes -----------------------------------------------------------------------------
def _env(log: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    return env | {"JOBDECK_CAMPAIGN_LOG": str(log), "PYTHONPATH": str(REPO)}


@dataclass
class Rig:
    """The database, the log, and every process the campaign started."""

    # The jobs running since before the parameter, in this backend's placeholder style.
    RUNNING_PAST: ClassVar[str] = (
        "SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < ?"
    )

    folder: Path
    concurrency: int
    lease: float = LEASE
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: dict[int, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen_err: dict[Path, int] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.folder / "jobs.db"

    @property
    def log(self) -> Path:
        return self.folder / "runs.log"

    @property
    def target(self) -> str:
        """What the processes get as --db."""
        return str(self.db)

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jobdeck.tui",
            "--db",
            self.target,
            "--handlers",
            HANDLERS,
            *args,
        ]

    def start(
        self, name: str, *args: str, stdout: int | IO[bytes] = subprocess.DEVNULL
    ) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.err", "ab") as err:
            proc = subprocess.Popen(
                self.command(*args), cwd=REPO, env=_env(self.log), stdout=stdout, stderr=err
            )
        self.started.append(proc)
        return proc

    def start_worker(self) -> None:
        args = ("worker", "--lease", f"{self.lease:g}", "--concurrency", str(self.concurrency))
        proc = self.start(f"worker-{len(self.started)}", *args)
        with self.lock:
            self.workers.append(proc)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL and reap; the time it was certainly dead is when a run it had ended."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(PROCESS_TIMEOUT)
        self.kills[proc.pid] = time.time()

    def kill_one(self, rng: random.Random) -> None:
        with self.lock:
            victim = self.workers.pop(rng.randrange(len(self.workers)))
        self.kill(victim)
        self.start_worker()

    def kill_all(self) -> None:
        with self.lock:
            victims, self.workers = self.workers, []
        for proc in victims:
            proc.send_signal(signal.SIGKILL)
        for proc in victims:
            proc.wait(PROCESS_TIMEOUT)
            self.kills[proc.pid] = time.time()

    def reap(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(PROCESS_TIMEOUT)

    def new_errors(self) -> list[str]:
        """Lines a user would have seen that must never appear: lock errors, tracebacks."""
        found = []
        for path in sorted(self.folder.glob("*.err")):
            with open(path, "rb") as file:
                file.seek(self.seen_err.get(path, 0))
                text = file.read().decode(errors="replace")
                self.seen_err[path] = file.tell()
            found += [
                f"{path.name}: {line}"
                for line in text.splitlines()
                if any(e in line for e in USER_FACING_ERRORS)
            ]
        return found

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)) as conn:
            return [tuple(r) for r in conn.execute(sql, params)]


@contextmanager
def killer(rig: Rig, rng: random.Random, every: tuple[float, float]) -> Iterator[list[int]]:
    """SIGKILL a random worker at random moments (and start another) until the block ends;
    yields a list holding the number of kills so far."""
    stop = threading.Event()
    killed = [0]

    def loop() -> None:
        while not stop.wait(rng.uniform(*every)):
            rig.kill_one(rng)
            killed[0] += 1

    thread = threading.Thread(target=loop, name="killer", daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join(PROCESS_TIMEOUT)


# -- the campaign ------------------------------------------------------------------------------
def payloads(rng: random.Random, round_: int, n: int) -> list[dict[str, Any]]:
    modes = ["ok"] * 14 + ["retry_once"] * 2 + ["retry_always", "terminal", "deny", "long"]
    out = []
    for i in range(n):
        mode = rng.choice(modes)
        seconds = rng.uniform(0.5, 1.5) if mode == "long" else rng.uniform(0, 0.15)
        mode = "ok" if mode == "long" else mode
        out.append(
            {
                "round": round_,
                "n": i,
                "mode": mode,
                "seconds": round(seconds, 3),
                "deny": mode == "deny",
            }
        )
    return out


def round_ids(rig: Rig, round_: int) -> set[str]:
    rows = rig.query("SELECT id FROM jobs WHERE json_extract(payload, '$.round') = ?", (round_,))
    return {r[0] for r in rows}


def submit(
    rig: Rig, rng: random.Random, round_: int, batch: list[dict[str, Any]], kill: bool
) -> tuple[str, list[str]]:
    """Store a round's batch (SIGKILLing the submitter mid-way when `kill`); returns a note for the
    round line and any violation. A killed submit leaves the batch whole or absent; what is
    absent is submitted again."""
    source = rig.folder / f"round-{round_}.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in batch))
    problems: list[str] = []
    proc = rig.start("submitter", "submit", KIND, "--from", str(source), stdout=subprocess.PIPE)
    if kill:
        time.sleep(rng.uniform(0.0, 0.6))
        rig.kill(proc)
    out, _ = proc.communicate(timeout=PROCESS_TIMEOUT)
    printed = [line for line in out.decode().split("\n")[:-1] if line]
    stored = round_ids(rig, round_)
    if not set(printed) <= stored:
        problems.append(f"round {round_}: the submitter printed ids that were not stored")
    if proc.returncode == 0:
        if len(printed) != len(batch) or len(stored) != len(batch):
            problems.append(
                f"round {round_}: submitted {len(batch)}, printed {len(printed)}, "
                f"stored {len(stored)}"
            )
        return "", problems
    if proc.returncode != -signal.SIGKILL:
        problems.append(f"round {round_}: the submitter exited {proc.returncode}")
    if len(stored) not in (0, len(batch)):  # one batch is one transaction
        problems.append(f"round {round_}: a killed submit stored {len(stored)} of {len(batch)}")
    if not stored:
        again = rig.start("submitter", "submit", KIND, "--from", str(source))
        if again.wait(PROCESS_TIMEOUT) != 0 or len(round_ids(rig, round_)) != len(batch):
            problems.append(f"round {round_}: submitting again after the kill failed")
    return f" (submitter killed: {len(stored)}/{len(batch)} stored)", problems


def drain(rig: Rig, deadline: float) -> list[str]:
    """Wait until nothing is queued or running; flag any job running well past its lease."""
    problems = []
    while True:
        now = time.time()
        stuck = rig.query(rig.RUNNING_PAST, (now - STUCK_AFTER,))
        problems += [f"{jid}: running {STUCK_AFTER:g} s past its lease" for (jid,) in stuck]
        live = rig.query("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0][0]
        if not live:
            return problems
        if now > deadline:
            return [*problems, f"{live} jobs still live when the round timed out"]
        time.sleep(0.1)


@dataclass(frozen=True)
class Options:
    rounds: int
    workers: int
    jobs_per_round: int
    concurrency: int
    seed: int
    round_timeout: float
    folder: Path | None


def campaign(opts: Options, say: Callable[[str], None]) -> int:
    rng = random.Random(opts.seed)
    folder = opts.folder or Path(tempfile.mkdtemp(prefix="jobdeck-campaign-"))
    folder.mkdir(parents=True, exist_ok=True)
    rig = Rig(folder, opts.concurrency)
    violations: list[str] = []
    started = time.monotonic()
    total_kills = 0
    say(
        f"campaign: seed {opts.seed}, {opts.rounds} rounds, {opts.workers} workers, "
        f"{opts.jobs_per_round} jobs a round, in {folder}"
    )
    try:
        # Create and migrate the file before many processes race to open it.
        subprocess.run(
            [*rig.command("submit", KIND, "--from", "-")],
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
            t0 = time.monotonic()
            batch = payloads(rng, r, opts.jobs_per_round)
            with killer(rig, random.Random(rng.random()), (0.2, 1.0)) as killed:
                note, problems = submit(rig, rng, r, batch, kill=rng.random() < 0.3)
                problems += drain(rig, time.time() + opts.round_timeout)
            total_kills += killed[0]
            report = verify(rig.db, rig.log, rig.kills)
            problems += report.violations + rig.new_errors()
            violations += problems
            s = report.statuses
            say(
                f"round {r:>3}/{opts.rounds}: {len(batch)} jobs{note}, {killed[0]} kills, "
                f"{time.monotonic() - t0:.1f} s; {s['done']} done, {s['failed']} failed, "
                f"{report.lost_leases} lost leases, {report.rerun_completions} completions lost "
                f"to a kill, {report.exec_overlaps} overlapping runs — "
                f"{'ok' if not problems else f'{len(problems)} VIOLATIONS'}"
            )
            for p in problems[:5]:
                say(f"    {p}")
        violations += rescue(rig, rng, opts, say)
        total_kills += opts.workers
    finally:
        rig.reap()
    elapsed = time.monotonic() - started
    jobs = rig.query("SELECT count(*) FROM jobs")[0][0] if rig.db.exists() else 0
    if violations:
        say(
            f"verdict: FAILED — {len(violations)} violations in {opts.rounds} rounds "
            f"({jobs} jobs, {total_kills} SIGKILLs, {elapsed:.0f} s); evidence kept in {folder}"
        )
        for v in violations[:20]:
            say(f"  {v}")
        return 1
    say(
        f"verdict: ok — {opts.rounds} rounds, {jobs} jobs, {total_kills} SIGKILLs, "
        f"no job lost, none run twice at once, none completed twice, log replays ({elapsed:.0f} s)"
    )
    if opts.folder is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def rescue(rig: Rig, rng: random.Random, opts: Options, say: Callable[[str], None]) -> list[str]:
    """A last batch; every worker SIGKILLed at once mid-way; a rescuer alone finishes it."""
    batch = payloads(rng, 0, opts.jobs_per_round)
    _, problems = submit(rig, rng, 0, batch, kill=False)
    deadline = time.time() + 10
    while (
        time.time() < deadline
        and not rig.query("SELECT count(*) FROM jobs WHERE status = 'running'")[0][0]
    ):
        time.sleep(0.02)
    rig.kill_all()
    running = rig.query("SELECT count(*) FROM jobs WHERE status = 'running'")[0][0]
    rescuer = rig.start(
        "rescuer", "worker", "--burst", "--lease", f"{LEASE:g}", "--concurrency", "8"
    )
    try:
        code = rescuer.wait(PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    if code != 0:
        problems.append(f"the rescuer exited {code}")
    report = verify(rig.db, rig.log, rig.kills)
    problems += report.violations + rig.new_errors()
    s = report.statuses
    verdict = "ok" if not problems else f"{len(problems)} VIOLATIONS"
    say(
        f"rescue: every worker killed with {running} jobs running; the rescuer finished them — "
        f"{s['done']} done, {s['failed']} failed — {verdict}"
    )
    return problems


def parse(
    argv: Sequence[str] | None,
    *,
    description: str | None = __doc__,
    rounds: int = 50,
    workers: int = 3,
    jobs_per_round: int = 100,
    round_timeout: float = 120.0,
) -> Options:
    """The campaign's options; the PostgreSQL campaign reads the same ones with its defaults."""
    p = argparse.ArgumentParser(description=description.split("\n\n")[0] if description else None)
    p.add_argument("--rounds", type=int, default=rounds)
    p.add_argument("--workers", type=int, default=workers)
    p.add_argument("--jobs-per-round", type=int, default=jobs_per_round)
    p.add_argument("--concurrency", type=int, default=4, help="jobs at a time per worker")
    p.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    p.add_argument("--round-timeout", type=float, default=round_timeout)
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="keep everything here (default: a temp folder, removed when clean)",
    )
    a = p.parse_args(argv)
    if a.rounds < 1 or a.workers < 1 or not 1 <= a.jobs_per_round < 5000:
        p.error("--rounds and --workers must be at least 1, --jobs-per-round 1 to 4999")
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**31)
    return Options(
        a.rounds, a.workers, a.jobs_per_round, a.concurrency, seed, a.round_timeout, a.dir
    )


def main(argv: Sequence[str] | None = None, say: Callable[[str], None] | None = None) -> int:
    """Run the campaign; returns the exit code (0 clean, 1 a violation)."""
    return campaign(parse(argv), say or (lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
