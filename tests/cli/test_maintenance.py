"""`jobdeck backup` and `jobdeck vacuum`, through the real command: the copy holds every row of
its source, passes integrity_check and opens with every command; each bad path is one line, the
right exit code and nothing written; vacuum gives the space of deleted rows back and says how
much. The backup taken while workers are SIGKILLed is in tests/reliability/test_backup.py."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import resource
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from jobdeck.storage.postgres.errors import parse_url
from jobdeck.storage.postgres.maintenance import TABLES_SIZE
from jobdeck.storage.sqlite import maintenance
from tests.cli.conftest import Populated
from tests.cli.harness import assert_one_error, command, jobdeck, query, run_env, snapshot
from tests.fuzz.driver import cli

BAD_INPUT, STORAGE = 2, 5
TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY 1"
)


def rows(db: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every jobdeck table, in a stable order (SQLite's own tables aside: VACUUM
    drops an empty sqlite_sequence)."""
    tables = [r[0] for r in query(db, TABLES)]
    return {
        t: sorted((tuple(r) for r in query(db, f"SELECT * FROM {t}")), key=repr) for t in tables
    }


def integrity(db: Path | str) -> list[str]:
    return [r[0] for r in query(db, "PRAGMA integrity_check")]


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# -- backup ----------------------------------------------------------------------------------------
def test_a_backup_holds_every_row_of_its_source_and_passes_integrity_check(
    scratch: Populated, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    ran = jobdeck(scratch.db, "backup", str(copy))
    assert ran.code == 0, ran.err
    size = copy.stat().st_size
    assert ran.lines == [f"backup of {scratch.db} to {copy}: 7 jobs, {size / 1e6:.1f} MB"]
    assert integrity(copy) == ["ok"]
    assert rows(copy) == rows(scratch.db)
    assert snapshot(copy) == snapshot(scratch.db)


def test_a_backup_is_one_owner_only_file_whatever_the_umask(
    scratch: Populated, tmp_path: Path
) -> None:
    for umask in (0o000, 0o022, 0o277):
        copy = tmp_path / f"copy-{umask:o}.db"
        proc = subprocess.run(
            command(scratch.db, "backup", str(copy)),
            capture_output=True,
            env=run_env(),
            preexec_fn=lambda u=umask: os.umask(u),  # type: ignore[misc]
            timeout=30,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert mode(copy) == 0o600, (oct(umask), oct(mode(copy)))
    # No temporary file, -wal, -journal or -shm beside the copies: each is one whole file.
    assert names(tmp_path) == {"jobs.db", "jobs.db-wal", "jobs.db-shm"} | {
        f"copy-{u:o}.db" for u in (0o000, 0o022, 0o277)
    }
    assert query(tmp_path / "copy-0.db", "PRAGMA journal_mode")[0][0] == "delete"


def test_every_command_reads_a_backup_as_it_reads_its_source(
    scratch: Populated, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    assert jobdeck(scratch.db, "backup", str(copy)).code == 0
    reads = [
        ["status", "--json"],
        ["list", "--status", "done", "--json"],
        ["list", "--status", "failed", "--json"],
        ["list", "--status", "queued", "--json"],
        ["events", "--json"],
        *(["show", job_id, "--json"] for job_id in scratch.all),
    ]
    for argv in reads:
        original, copied = jobdeck(scratch.db, *argv), jobdeck(copy, *argv)
        assert copied.code == 0, (argv, copied.err)
        assert copied.out == original.out, argv
    # The copy is a database like any other: a worker opens it writable and runs its queued job.
    assert jobdeck(copy, "worker", "--burst").code == 0
    assert jobdeck(copy, "show", scratch.queued, "--json").json()["status"] == "done"
    assert jobdeck(scratch.db, "show", scratch.queued, "--json").json()["status"] == "queued"


def test_backup_json_says_what_was_copied(scratch: Populated, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shown = jobdeck(scratch.db, "backup", str(copy), "--json").json()
    counts = jobdeck(scratch.db, "status", "--json").json()
    assert shown["database"] == str(scratch.db)
    assert shown["file"] == str(copy)
    assert shown["counts"] == counts
    assert shown["jobs"] == sum(counts.values()) == 7
    assert shown["bytes"] == copy.stat().st_size
    assert shown["seconds"] >= 0


def test_force_replaces_an_existing_file_whole(scratch: Populated, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_text("an older backup")
    copy.chmod(0o644)
    ran = jobdeck(scratch.db, "backup", str(copy), "--force")
    assert ran.code == 0, ran.err
    assert rows(copy) == rows(scratch.db)
    assert mode(copy) == 0o600


def _link(target: str, how: Callable[[Path, Path], None]) -> Callable[[Path], str]:
    def make(db: Path) -> str:
        link = db.parent / "link.db"
        how(Path(f"{db}{target}"), link)
        return str(link)

    return make


# (id, the FILE argument made from the database's path, extra flags, exit code, words)
BAD_FILES: list[tuple[str, Callable[[Path], str], list[str], int, str]] = [
    ("missing-folder", lambda db: str(db.parent / "no" / "c.db"), [], BAD_INPUT, "does not exist"),
    ("the-database", str, [], BAD_INPUT, "itself"),
    ("the-database-forced", str, ["--force"], BAD_INPUT, "itself"),
    ("its-wal", lambda db: f"{db}-wal", ["--force"], BAD_INPUT, "-wal"),
    ("its-shm", lambda db: f"{db}-shm", ["--force"], BAD_INPUT, "itself"),
    ("its-journal", lambda db: f"{db}-journal", [], BAD_INPUT, "itself"),
    ("dot-dot", lambda db: str(db.parent / "sub" / ".." / db.name), ["--force"], 2, "itself"),
    ("symlink", _link("", lambda src, link: link.symlink_to(src)), ["--force"], 2, "itself"),
    ("hard-link", _link("", lambda src, link: os.link(src, link)), ["--force"], 2, "itself"),
    ("wal-hard-link", _link("-wal", lambda s, link: os.link(s, link)), ["--force"], 2, "itself"),
]


@pytest.mark.parametrize(
    ("make", "flags", "code", "words"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_a_backup_path_that_cannot_be_used_is_one_line_and_nothing_written(
    scratch: Populated,
    make: Callable[[Path], str],
    flags: list[str],
    code: int,
    words: str,
) -> None:
    (scratch.db.parent / "sub").mkdir()
    file = make(scratch.db)
    before, listed = snapshot(scratch.db), names(scratch.db.parent)
    line = assert_one_error(jobdeck(scratch.db, "backup", file, *flags), code)
    assert words in line and file in line, line
    assert snapshot(scratch.db) == before
    assert names(scratch.db.parent) == listed
    assert integrity(scratch.db) == ["ok"]


def test_an_existing_file_is_refused_without_force_and_left_alone(
    scratch: Populated, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    copy.write_text("keep me")
    line = assert_one_error(jobdeck(scratch.db, "backup", str(copy)), BAD_INPUT)
    assert line == f"jobdeck: {copy} already exists; add --force to replace it."
    assert copy.read_text() == "keep me"
    folder = tmp_path / "folder.db"
    folder.mkdir()
    line = assert_one_error(jobdeck(scratch.db, "backup", str(folder), "--force"), BAD_INPUT)
    assert "is a directory" in line
    assert names(folder) == set()


def test_a_backup_beside_a_leftover_journal_is_refused(scratch: Populated, tmp_path: Path) -> None:
    """SQLite would replay a stale -wal or -journal into a new file of the same name."""
    copy = tmp_path / "copy.db"
    for suffix in ("-wal", "-journal"):
        side = Path(f"{copy}{suffix}")
        side.write_bytes(b"stale")
        line = assert_one_error(jobdeck(scratch.db, "backup", str(copy), "--force"), BAD_INPUT)
        assert f"{copy}{suffix}" in line and "remove it" in line, line
        assert not copy.exists() and side.read_bytes() == b"stale"
        side.unlink()


def test_a_database_that_is_not_there_or_not_jobdecks_is_one_line_exit_5(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    line = assert_one_error(jobdeck(missing, "backup", str(tmp_path / "c.db")), STORAGE)
    assert line == f"jobdeck: there is no database at {missing}."
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    line = assert_one_error(jobdeck(other, "backup", str(tmp_path / "c.db")), STORAGE)
    assert "not a jobdeck database" in line
    assert names(tmp_path) == {"other.db"}


def test_a_full_disk_mid_copy_is_one_sentence_and_leaves_nothing(
    scratch: Populated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLITE_FULL, for real: the copy's connection may not grow it past a few pages."""
    connect = maintenance._connect

    def capped(path: str) -> sqlite3.Connection:
        conn = connect(path)
        conn.execute("PRAGMA max_page_count = 4")
        return conn

    monkeypatch.setattr(maintenance, "_connect", capped)
    copy, listed = tmp_path / "copy.db", names(tmp_path)
    line = assert_one_error(cli(scratch.db, "backup", str(copy)), STORAGE)
    assert (
        line == f"jobdeck: cannot write the backup {copy}: the disk is full; nothing was written."
    )
    assert names(tmp_path) == listed


def test_no_space_left_while_syncing_the_copy_leaves_nothing(
    scratch: Populated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(maintenance.os, "fsync", full)
    copy, listed = tmp_path / "copy.db", names(tmp_path)
    line = assert_one_error(cli(scratch.db, "backup", str(copy)), STORAGE)
    assert (
        line == f"jobdeck: cannot write the backup {copy}: the disk is full; nothing was written."
    )
    assert names(tmp_path) == listed


def test_a_file_size_limit_mid_copy_is_one_sentence_and_leaves_nothing(
    scratch: Populated, tmp_path: Path
) -> None:
    """The real process, with the kernel refusing to let any file grow past 40 KB."""
    limit = 40_000
    assert scratch.db.stat().st_size > 2 * limit

    def cap_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG rather than die
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    copy, listed = tmp_path / "copy.db", names(tmp_path)
    proc = subprocess.run(
        command(scratch.db, "backup", str(copy)),
        capture_output=True,
        env=run_env(),
        preexec_fn=cap_file_size,
        timeout=30,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == STORAGE and "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith(f"jobdeck: cannot write the backup {copy}"), err
    assert err.rstrip().endswith("nothing was written."), err
    assert names(tmp_path) == listed


def test_a_backup_of_postgresql_says_to_use_pg_dump(tmp_path: Path) -> None:
    url = "postgresql://jobdeck@localhost:1/jobs"  # never connected to
    ran = jobdeck(url, "backup", str(tmp_path / "c.db"), cwd=tmp_path)
    line = assert_one_error(ran, BAD_INPUT)
    assert "pg_dump" in line and "--schema=jobdeck" in line, line
    assert names(tmp_path) == set()


# -- vacuum ----------------------------------------------------------------------------------------
def on_disk(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def delete_done_jobs(db: Path) -> int:
    """What a retention run does, by hand: a done job and every row that refers to it."""
    done = "SELECT id FROM jobs WHERE status = 'done'"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        for table in ("events", "attempts", "steps", "faults", "schedule_runs"):
            conn.execute(f"DELETE FROM {table} WHERE job_id IN ({done})")
        conn.execute(f"UPDATE jobs SET rerun_of = NULL WHERE rerun_of IN ({done})")
        deleted = conn.execute("DELETE FROM jobs WHERE status = 'done'").rowcount
        conn.execute("UPDATE counts SET n = 0 WHERE status = 'done'")
        conn.execute("COMMIT")
    return int(deleted)


@pytest.fixture
def emptied(tmp_path: Path) -> Path:
    """A database that held 2,000 done jobs of 1 KB each, and one queued job, before the done
    ones were deleted: its file is as large as ever, its pages mostly free."""
    db = tmp_path / "jobs.db"
    lines = "".join(json.dumps({"n": n, "pad": "x" * 1000}) + "\n" for n in range(2000))
    assert jobdeck(db, "submit", "demo.echo", "--from", "-", stdin=lines).code == 0
    assert jobdeck(db, "worker", "--burst", "--concurrency", "16").code == 0
    assert jobdeck(db, "submit", "demo.echo", '{"keep": true}').code == 0
    assert delete_done_jobs(db) == 2000
    return db


def test_vacuum_after_deleting_many_jobs_gives_the_space_back_and_says_how_much(
    emptied: Path,
) -> None:
    kept, size = rows(emptied), on_disk(emptied)
    shown = jobdeck(emptied, "vacuum", "--json").json()
    assert shown["database"] == str(emptied)
    assert shown["before_bytes"] >= size - 4096 * 8  # the checkpoint may settle a few pages
    assert shown["after_bytes"] == on_disk(emptied) < size / 4
    assert shown["freed_bytes"] == shown["before_bytes"] - shown["after_bytes"] > 1_000_000
    assert shown["wal_bytes"] == 0
    assert rows(emptied) == kept
    assert integrity(emptied) == ["ok"]
    assert jobdeck(emptied, "status", "--json").json()["queued"] == 1


def test_vacuum_prints_the_sizes_before_and_after(emptied: Path) -> None:
    ran = jobdeck(emptied, "vacuum")
    assert ran.code == 0, ran.err
    (line,) = ran.lines
    assert line.startswith(f"vacuum of {emptied}: ") and line.endswith(" MB freed"), line
    again = jobdeck(emptied, "vacuum", "--json").json()  # nothing left to give back
    assert again["freed_bytes"] == 0


def test_vacuum_while_another_connection_writes_is_one_sentence_and_exit_5(
    scratch: Populated,
) -> None:
    before = snapshot(scratch.db)
    release = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        with closing(sqlite3.connect(scratch.db, isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE counts SET n = n WHERE 0")
            locked.set()
            release.wait(30)
            conn.execute("ROLLBACK")

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        line = assert_one_error(jobdeck(scratch.db, "vacuum"), STORAGE)
        took = time.monotonic() - started
    finally:
        release.set()
        holder.join(30)
    assert line == (
        f"jobdeck: {scratch.db} is in use: VACUUM needs every other connection idle for a "
        "moment; stop the workers and the monitor, then run it again."
    )
    assert took < 12, took  # one 5 s wait in all, not one per step
    assert snapshot(scratch.db) == before
    assert "idle for a moment" in " ".join(jobdeck(scratch.db, "vacuum", "--help").out.split())


def test_vacuum_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    line = assert_one_error(jobdeck(missing, "vacuum"), STORAGE)
    assert line == f"jobdeck: there is no database at {missing}."
    assert names(tmp_path) == set()


# -- PostgreSQL ------------------------------------------------------------------------------------
async def pg(url: str, sql: str) -> list[Any]:
    """Rows of one statement, or None for a script of several, behind the command's back."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        if ";" in sql:
            await conn.execute(sql)
            return []
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def test_vacuum_on_postgresql_vacuums_every_jobdeck_table_and_reports_their_size(
    pg_url: str, tmp_path: Path
) -> None:
    lines = "".join(json.dumps({"n": n, "pad": "x" * 1000}) + "\n" for n in range(500))
    submitted = jobdeck(pg_url, "submit", "demo.echo", "--from", "-", stdin=lines, cwd=tmp_path)
    assert submitted.code == 0, submitted.err
    delete = (
        "DELETE FROM jobdeck.events; DELETE FROM jobdeck.jobs; UPDATE jobdeck.counts SET n = 0;"
    )
    asyncio.run(pg(pg_url, delete))
    ran = jobdeck(pg_url, "vacuum", "--json", cwd=tmp_path)
    assert ran.code == 0, ran.err
    shown = ran.json()
    assert shown["database"] == parse_url(pg_url).shown
    assert shown["before_bytes"] > shown["after_bytes"] > 0
    assert shown["freed_bytes"] == shown["before_bytes"] - shown["after_bytes"]
    assert "wal_bytes" not in shown
    assert asyncio.run(pg(pg_url, TABLES_SIZE))[0][0] == shown["after_bytes"]
    vacuumed = "SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE schemaname = 'jobdeck'"
    stats = asyncio.run(pg(pg_url, vacuumed))
    assert stats and all(n >= 1 for _, n in stats), stats
    assert jobdeck(pg_url, "status", "--json", cwd=tmp_path).json()["queued"] == 0


def test_vacuum_on_postgresql_prints_the_sizes_without_the_password(
    pg_url: str, tmp_path: Path
) -> None:
    ran = jobdeck(pg_url, "vacuum", cwd=tmp_path)
    assert ran.code == 0, ran.err
    (line,) = ran.lines
    assert line.startswith(f"vacuum of {parse_url(pg_url).shown}: "), line
    assert line.endswith(" MB freed"), line
    password = urlsplit(pg_url).password
    assert not password or password not in line
