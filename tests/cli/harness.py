"""Run the real `jobdeck` command in a subprocess and read its database behind its back.

Shared by tests/cli and tests/reliability. The database is read with the stdlib sqlite3 module,
read-only, so a test checks what was stored without going through the code under test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0


@dataclass(frozen=True)
class Ran:
    """What one run of the command left behind."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.lines]


def command(db: Path | str, *args: str) -> list[str]:
    return [sys.executable, "-m", "jobdeck.tui", "--db", str(db), *args]


def run_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    return env | dict(extra or {})


def jobdeck(
    db: Path | str,
    *args: str,
    cwd: Path | str | None = None,
    stdin: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> Ran:
    """Run `python -m jobdeck.tui --db DB ARGS...` to completion."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        command(db, *args),
        cwd=cwd or Path(db).parent,
        input=data,
        capture_output=True,
        env=run_env(env),
        timeout=timeout,
        check=False,
    )
    return Ran(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def imports(db: Path | str, *args: str) -> list[str]:
    """Every module the command imports, in order (`python -X importtime`); it must succeed."""
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", *command(db, *args)[1:]],
        capture_output=True,
        text=True,
        env=run_env(),
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout, args
    return [line.split("|")[-1].strip() for line in ran.stderr.splitlines()]


def spawn(
    db: Path | str,
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the command in the background (stdout and stderr piped)."""
    return subprocess.Popen(
        command(db, *args),
        cwd=cwd or Path(db).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=run_env(env),
    )


@contextmanager
def reaped(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    """Kill whatever is still running when the block ends, so a failed test leaves no process."""
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def finish(proc: subprocess.Popen[bytes], timeout: float = TIMEOUT) -> Ran:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"timed out after {timeout} s; stderr: {err.decode()!r}") from None
    return Ran(proc.returncode, out.decode(), err.decode())


def read_only(db: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def query(db: Path | str, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    with closing(read_only(db)) as conn:
        return conn.execute(sql, params).fetchall()


def snapshot(db: Path | str) -> tuple[Any, ...]:
    """What a write would change: rows per table, the last event cursor, the schema version."""
    with closing(read_only(db)) as conn:
        rows = tuple(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("jobs", "attempts", "events", "faults")
        )
        cursor = conn.execute("SELECT max(cursor) FROM events").fetchone()[0]
        statuses = tuple(
            tuple(r) for r in conn.execute("SELECT status, count(*) FROM jobs GROUP BY status")
        )
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    return (*rows, cursor, statuses, version)


def wait_until(check: Callable[[], bool], *, timeout: float = 10.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def job_count(db: Path | str) -> int:
    """Jobs stored so far; 0 while the file or its schema does not exist yet."""
    try:
        return int(query(db, "SELECT count(*) FROM jobs")[0][0])
    except sqlite3.OperationalError:  # not created yet, or mid-migration
        return 0


def job_status(db: Path | str, job_id: str) -> str | None:
    try:
        rows = query(db, "SELECT status FROM jobs WHERE id = ?", (job_id,))
    except sqlite3.OperationalError:  # not created yet, or mid-migration
        return None
    return rows[0]["status"] if rows else None


def assert_one_error(ran: Ran, code: int | None = None) -> str:
    """The CLI's error contract: non-zero exit, one line on stderr, no traceback. Returns it."""
    assert ran.code != 0, f"expected an error, got exit 0 and {ran.out!r}"
    if code is not None:
        assert ran.code == code, (ran.code, ran.err)
    assert "Traceback" not in ran.err, ran.err
    assert len(ran.err_lines) == 1, ran.err
    assert ran.err.count("\n") == 1, ran.err
    assert ran.err_lines[0].startswith("jobdeck: "), ran.err
    return ran.err_lines[0]
