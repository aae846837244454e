"""`jobdeck prune` and `jobdeck worker --retention`, through the real command: what prune prints
and deletes, its archive file, the pruned id and the orphaned rerun as show prints them (the quick
path and the engine path alike), an events follower across a prune, and every bad input refused
with one sentence and nothing deleted. The engine's side is in tests/engine/test_retention.py."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import resource
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jobdeck.core import Engine, Worker, demo_registry
from jobdeck.core import retention as core_retention
from jobdeck.storage import open_store
from jobdeck.tui.cli import archive as cli_archive
from jobdeck.tui.cli import run as cli_run
from tests.cli.harness import (
    Ran,
    assert_one_error,
    command,
    jobdeck,
    query,
    reaped,
    run_env,
    snapshot,
    spawn,
    wait_until,
)
from tests.fuzz.driver import cli

BAD_INPUT, NOT_FOUND, STORAGE = 2, 3, 5
DAY = 86_400.0


@dataclass(frozen=True)
class Aged:
    db: Path
    old_done: list[str]  # finished ten days ago
    old_failed: list[str]
    original: str  # done ten days ago; `rerun` reran it yesterday
    rerun: str
    recent: str  # done an hour ago
    queued: str  # submitted ten days ago, never run: no worker runs demo.sleep here

    @property
    def old(self) -> list[str]:
        return [*self.old_done, *self.old_failed, self.original]


async def _age(db: Path, *, pad: str = "") -> Aged:
    """A database whose jobs finished at known ages (the engine's clock is set back)."""
    now = time.time()
    clock = [now - 10 * DAY]
    store = await open_store(str(db))
    engine = Engine(store, demo_registry(), clock=lambda: clock[0])

    async def drain() -> None:
        await Worker(
            engine,
            burst=True,
            poll=0.01,
            lease=10,
            kinds=["demo.echo", "demo.transfer", "demo.charge"],
        ).run()

    try:
        queued = await engine.submit("demo.sleep", {"seconds": 0})
        done = [(await engine.submit("demo.echo", {"n": n, "pad": pad})).id for n in range(3)]
        denied = await engine.submit("demo.charge", {"amount": 5, "currency": "EUR"})
        transfer = await engine.submit("demo.transfer", {"from": "a", "to": "b", "amount": 3})
        await engine.arm_fault(job_id=transfer.id, at_step="credit", reason="credit is down")
        original = await engine.submit("demo.charge", {"id": "c1", "amount": 5, "currency": "EUR"})
        await drain()
        clock[0] = now - DAY
        rerun = await engine.rerun(original.id)
        await drain()
        clock[0] = now - 3600
        recent = await engine.submit("demo.echo", {"n": "recent"})
        await drain()
    finally:
        await store.close()
    return Aged(db, done, [denied.id, transfer.id], original.id, rerun.id, recent.id, queued.id)


@pytest.fixture
def aged(tmp_path: Path) -> Aged:
    return asyncio.run(_age(tmp_path / "jobs.db"))


def rows_of(db: Path, ids: list[str]) -> dict[str, int]:
    marks = ", ".join("?" * len(ids))
    found = {}
    for table in ("jobs", "attempts", "steps", "events", "faults"):
        column = "id" if table == "jobs" else "job_id"
        sql = f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})"
        found[table] = int(query(db, sql, ids)[0][0])
    return found


def counts_are_exact(db: Path) -> None:
    kept = {r[0]: r[1] for r in query(db, "SELECT status, n FROM counts WHERE n <> 0")}
    real = {r[0]: r[1] for r in query(db, "SELECT status, count(*) FROM jobs GROUP BY status")}
    assert kept == real


def others(db: Path) -> list[str]:
    """The files beside the database that are not it or its side files."""
    return sorted(p.name for p in db.parent.iterdir() if not p.name.startswith(db.name))


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# -- what prune prints and deletes -----------------------------------------------------------------
def test_prune_prints_what_it_deleted_and_deletes_only_old_finished_jobs(aged: Aged) -> None:
    old = rows_of(aged.db, aged.old)
    ran = jobdeck(aged.db, "prune", "--done-older-than", "7d", "--failed-older-than", "7d")
    assert ran.code == 0, ran.err
    assert ran.lines == [
        f"pruned 6 jobs ({old['attempts']} attempts, {old['steps']} steps, {old['events']} events)"
    ]
    assert rows_of(aged.db, aged.old) == dict.fromkeys(old, 0)
    assert rows_of(aged.db, [aged.rerun, aged.recent, aged.queued])["jobs"] == 3
    counts_are_exact(aged.db)
    assert jobdeck(aged.db, "status", "--json").json() == {
        "queued": 1,
        "running": 0,
        "done": 2,
        "failed": 0,
    }
    again = jobdeck(aged.db, "prune", "--done-older-than", "7d", "--failed-older-than", "7d")
    assert again.lines == ["pruned 0 jobs (0 attempts, 0 steps, 0 events)"]


def test_a_dry_run_says_what_would_go_and_deletes_nothing(aged: Aged) -> None:
    before = snapshot(aged.db)
    dry = jobdeck(aged.db, "prune", "--done-older-than", "2d", "--dry-run")
    assert dry.code == 0, dry.err
    assert snapshot(aged.db) == before
    (line,) = dry.lines
    assert line.startswith("would prune 4 jobs (4 attempts, 0 steps, 12 events)"), line
    real = jobdeck(aged.db, "prune", "--done-older-than", "2d")
    assert real.lines == [line.replace("would prune", "pruned")]
    assert rows_of(aged.db, aged.old_failed)["jobs"] == 2  # no --failed-older-than: kept


def test_prune_json_is_one_object_and_kind_narrows_it(aged: Aged) -> None:
    ran = jobdeck(aged.db, "prune", "--failed-older-than", "1d", "--kind", "demo.charge", "--json")
    assert ran.code == 0, ran.err
    assert ran.json() == {
        "dry_run": False,
        "jobs": 1,
        "attempts": 0,
        "steps": 0,
        "events": 1,
        "archive": None,
    }
    assert rows_of(aged.db, aged.old_failed)["jobs"] == 1  # the transfer is no demo.charge


# -- the archive -----------------------------------------------------------------------------------
def test_the_archive_holds_one_line_per_pruned_job_in_an_owner_only_file(
    aged: Aged, tmp_path: Path
) -> None:
    archive = tmp_path / "archive.jsonl"
    expected = {i: rows_of(aged.db, [i]) for i in aged.old}
    ran = jobdeck(
        aged.db, "prune", "--done-older-than", "7d", "--failed-older-than", "7d",
        "--archive", str(archive),
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assert ran.lines[0].endswith(f", archived to {archive}")
    assert mode(archive) == 0o600
    text = archive.read_bytes()
    assert text.endswith(b"\n") and text.isascii()
    lines = [json.loads(line) for line in text.decode().split("\n")[:-1]]
    assert sorted(line["job"]["id"] for line in lines) == sorted(aged.old)
    assert rows_of(aged.db, aged.old)["jobs"] == 0
    for line in lines:
        job_id = line["job"]["id"]
        assert set(line) == {"job", "attempts", "steps", "events"}
        assert len(line["attempts"]) == expected[job_id]["attempts"]
        assert len(line["steps"]) == expected[job_id]["steps"]
        assert len(line["events"]) == expected[job_id]["events"] > 0
        assert {e["job_id"] for e in line["events"]} == {job_id}
        assert line["events"][0]["from_status"] is None  # from its creation on
    transfer = next(line for line in lines if line["job"]["id"] == aged.old_failed[1])
    assert transfer["job"]["reason"]["code"] == "injected_terminal"
    assert [s["name"] for s in transfer["steps"]] == ["debit", "credit"]
    assert isinstance(transfer["job"]["created_at"], float)  # as stored, not rounded to ms


def test_a_prune_that_finds_nothing_leaves_an_empty_owner_only_archive(
    aged: Aged, tmp_path: Path
) -> None:
    archive = tmp_path / "nothing.jsonl"
    ran = jobdeck(aged.db, "prune", "--done-older-than", "30d", "--archive", str(archive))
    assert ran.lines == [f"pruned 0 jobs (0 attempts, 0 steps, 0 events), archived to {archive}"]
    assert archive.read_bytes() == b"" and mode(archive) == 0o600


def test_a_second_prune_appends_to_the_archive_after_a_cut_off_line(
    aged: Aged, tmp_path: Path
) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_bytes(b'{"job": "an earlier line"}\n{"job": "cut o')
    archive.chmod(0o640)
    ran = jobdeck(aged.db, "prune", "--done-older-than", "7d", "--archive", str(archive))
    assert ran.code == 0, ran.err
    lines = archive.read_text().split("\n")
    assert lines[:2] == ['{"job": "an earlier line"}', '{"job": "cut o']
    assert len(lines) == 2 + 4 + 1 and lines[-1] == ""  # the 4 done jobs, then the end
    assert {json.loads(line)["job"]["id"] for line in lines[2:-1]} == {
        *aged.old_done,
        aged.original,
    }
    assert mode(archive) == 0o640  # an existing file keeps its mode


def test_no_space_for_the_archive_is_one_sentence_and_nothing_is_deleted(
    aged: Aged, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli_archive.os, "write", full)
    archive, before = tmp_path / "archive.jsonl", snapshot(aged.db)
    ran = cli(aged.db, "prune", "--done-older-than", "7d", "--archive", str(archive))
    line = assert_one_error(ran, STORAGE)
    assert line == (
        f"jobdeck: cannot write the archive {archive}: the disk is full; nothing that is not in "
        "it was deleted."
    )
    assert snapshot(aged.db) == before
    assert not archive.exists()  # this run made it and wrote nothing to it


def test_no_space_while_syncing_the_archive_deletes_nothing(
    aged: Aged, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written is not enough: a batch goes only once its lines are on the disk."""

    sync = os.fsync

    def full(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            return sync(fd)  # the folder of the new file: fine
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli_archive.os, "fsync", full)
    archive, before = tmp_path / "archive.jsonl", snapshot(aged.db)
    ran = cli(aged.db, "prune", "--done-older-than", "7d", "--archive", str(archive))
    assert "the disk is full" in assert_one_error(ran, STORAGE)
    assert snapshot(aged.db) == before


def test_a_full_disk_on_a_later_batch_keeps_that_batch_and_what_went_is_archived(
    aged: Aged, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_retention, "BATCH", 2)
    write, calls = os.write, []

    def second_fails(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 2:  # half of the second batch reaches the file, then the error
            write(fd, bytes(data)[: len(data) // 2])
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return write(fd, data)

    monkeypatch.setattr(cli_archive.os, "write", second_fails)
    archive = tmp_path / "archive.jsonl"
    ran = cli(aged.db, "prune", "--done-older-than", "7d", "--archive", str(archive))
    line = assert_one_error(ran, STORAGE)
    assert line == (
        f"jobdeck: cannot write the archive {archive}: input/output error; 2 jobs were archived "
        "before it, and nothing that is not in it was deleted."
    )
    text = archive.read_text()
    archived = {json.loads(x)["job"]["id"] for x in text.splitlines()}  # no half line
    assert len(archived) == 2 and text.count("\n") == 2 and text.endswith("\n")
    gone = {i for i in [*aged.old_done, aged.original] if not rows_of(aged.db, [i])["jobs"]}
    assert gone == archived
    counts_are_exact(aged.db)


def test_a_file_size_limit_on_the_archive_deletes_nothing(aged: Aged, tmp_path: Path) -> None:
    """The real process, with the kernel refusing to let any file grow past a limit that the
    archive is already past: its first line cannot be written."""
    archive = tmp_path / "archive.jsonl"
    limit = max(p.stat().st_size for p in tmp_path.iterdir()) + 100_000
    archive.write_bytes(b"x" * (limit + 10) + b"\n")
    before, kept = snapshot(aged.db), archive.read_bytes()

    def cap_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG rather than die
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    argv = ["prune", "--done-older-than", "7d", "--archive", str(archive)]
    proc = subprocess.run(
        command(aged.db, *argv),
        capture_output=True,
        env=run_env(),
        preexec_fn=cap_file_size,
        timeout=30,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == STORAGE and "Traceback" not in err, err
    assert err == (
        f"jobdeck: cannot write the archive {archive}: the disk is full; nothing that is not in "
        "it was deleted.\n"
    )
    assert snapshot(aged.db) == before
    assert archive.read_bytes() == kept


# -- bad input -------------------------------------------------------------------------------------
BAD = [
    ("negative", ["--done-older-than", "-1d"], "--done-older-than wants a duration"),
    ("negative-equals", ["--failed-older-than=-1d"], "--failed-older-than wants a duration"),
    ("soon", ["--done-older-than", "soon"], "not 'soon'"),
    ("unitless", ["--done-older-than", "7"], "not '7'"),
    ("empty", ["--done-older-than", ""], "wants a duration"),
    ("centuries", ["--done-older-than", "99999d"], "longer than a century"),
    ("no-age", ["--kind", "demo.echo"], "say which jobs to prune"),
    ("dry-archive", ["--done-older-than", "1d", "--dry-run", "--archive", "a"], "--dry-run"),
    ("missing-folder", ["--done-older-than", "1d", "--archive", "no/such/a.jsonl"], "folder"),
    ("a-folder", ["--done-older-than", "1d", "--archive", "."], "is a folder"),
    ("the-database", ["--done-older-than", "1d", "--archive", "DB"], "is the database"),
    ("its-wal", ["--done-older-than", "1d", "--archive", "DB-wal"], "is the database"),
    ("not-a-file", ["--done-older-than", "1d", "--archive", "/dev/null"], "not a regular file"),
]


@pytest.mark.parametrize(("argv", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_prune_is_one_sentence_and_deletes_nothing(
    aged: Aged, argv: list[str], says: str
) -> None:
    argv = [str(aged.db) + a[2:] if a.startswith("DB") else a for a in argv]
    before = snapshot(aged.db)
    listed = others(aged.db)
    wal = Path(f"{aged.db}-wal").read_bytes() if Path(f"{aged.db}-wal").exists() else b""
    line = assert_one_error(jobdeck(aged.db, "prune", *argv), BAD_INPUT)
    assert says in line, line
    assert snapshot(aged.db) == before
    assert others(aged.db) == listed  # no archive left
    assert (Path(f"{aged.db}-wal").read_bytes() if wal else b"") == wal


def test_an_age_is_refused_before_the_database_opens(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    line = assert_one_error(jobdeck(missing, "prune", "--done-older-than", "soon"), BAD_INPUT)
    assert "--done-older-than" in line
    assert list(tmp_path.iterdir()) == []


def test_prune_of_a_missing_database_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    assert_one_error(jobdeck(missing, "prune", "--done-older-than", "7d"), STORAGE)
    assert list(tmp_path.iterdir()) == []


def test_arguments_that_are_not_utf8_name_their_flag(aged: Aged) -> None:
    before = snapshot(aged.db)
    line = assert_one_error(cli(aged.db, "backup", "\udcff.db"), BAD_INPUT)
    assert line == "jobdeck: the FILE argument is not valid UTF-8 text."
    line = assert_one_error(cli(aged.db, "prune", "--done-older-than", "1\udcffd"), BAD_INPUT)
    assert line == "jobdeck: the --done-older-than argument is not valid UTF-8 text."
    assert snapshot(aged.db) == before


# -- what is left of a pruned job ------------------------------------------------------------------
def both(db: Path, *argv: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Ran, Ran]:
    """(quick path, engine path) of one read command, in this process."""
    quick = cli(db, *argv)
    with monkeypatch.context() as patch:
        patch.setattr(cli_run, "sqlite_file", lambda args: False)
        engine = cli(db, *argv)
    return quick, engine


def test_show_of_a_pruned_id_says_it_was_pruned_and_exits_3(
    aged: Aged, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert jobdeck(aged.db, "prune", "--done-older-than", "7d").code == 0
    quick, engine = both(aged.db, "show", aged.old_done[0], monkeypatch=monkeypatch)
    assert quick == engine
    line = assert_one_error(quick, NOT_FOUND)
    assert line.startswith(f"jobdeck: job {aged.old_done[0]} was pruned on 20"), line
    unknown = assert_one_error(jobdeck(aged.db, "show", "0" * 26), NOT_FOUND)
    assert "pruned" not in unknown


def test_show_of_a_rerun_whose_original_was_pruned_says_original_pruned(
    aged: Aged, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert jobdeck(aged.db, "prune", "--done-older-than", "7d").code == 0
    text, engine_text = both(aged.db, "show", aged.rerun, monkeypatch=monkeypatch)
    assert text == engine_text and text.code == 0, text.err
    lines = text.out.splitlines()
    assert f"rerun of  {aged.original}" in lines
    assert lines[lines.index("lineage") + 1] == (
        f"  → {aged.rerun}  done  original pruned ({aged.original})"
    )
    shown, engine_shown = both(aged.db, "show", aged.rerun, "--json", monkeypatch=monkeypatch)
    assert shown == engine_shown
    lineage = json.loads(shown.out)["lineage"]
    assert lineage["id"] == aged.rerun and lineage["original_pruned"] is True
    report = assert_one_error(jobdeck(aged.db, "rerun", aged.original), NOT_FOUND)
    assert "was pruned" in report


# -- a reader across a prune -----------------------------------------------------------------------
def test_events_follow_across_a_prune_neither_skips_nor_repeats(aged: Aged) -> None:
    """The newest event is an old job's when the prune runs, so a cursor handed out again
    would be one the follower already read: it would skip the jobs submitted after."""
    last = int(query(aged.db, "SELECT max(cursor) FROM events")[0][0])
    follower = spawn(aged.db, "events", "--follow", "--json", "--since", str(last))
    with reaped(follower):
        time.sleep(0.3)
        ran = jobdeck(aged.db, "prune", "--done-older-than", "0s", "--failed-older-than", "0s")
        assert ran.code == 0, ran.err
        new = [
            jobdeck(aged.db, "submit", "demo.echo", json.dumps({"n": f"after {n}"}))
            for n in range(3)
        ]
        ids = [r.out.strip() for r in new]
        wait_until(
            lambda: len(query(aged.db, f"SELECT 1 FROM events WHERE cursor > {last}")) == 3,
            what="the three submits",
        )
        assert follower.stdout is not None
        os.set_blocking(follower.stdout.fileno(), False)
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10
        buffer = b""
        while sum("cursor" in e for e in seen) < 3 and time.monotonic() < deadline:
            chunk = follower.stdout.read() or b""
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            seen += [json.loads(line) for line in complete if line]
            time.sleep(0.05)
        time.sleep(0.5)  # and nothing more comes
        buffer += follower.stdout.read() or b""
        seen += [json.loads(line) for line in buffer.split(b"\n") if line]
    # The prune is on the operator trail, in place: before the three submits.
    assert [e.get("action") for e in seen][:1] == ["prune"]
    events = [e for e in seen if "cursor" in e]
    assert [e["job_id"] for e in events] == ids
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(set(cursors)) and cursors[0] > last


# -- worker --retention ----------------------------------------------------------------------------
BAD_RETENTION = [
    ("negative", "done=-1d", "--retention done wants a duration"),
    ("soon", "done=soon", "not 'soon'"),
    ("unknown-status", "weekly=7d", "not 'weekly=7d'"),
    ("no-equals", "7d", "--retention wants off"),
    ("twice", "done=1d,done=2d", "names done twice"),
    ("empty", "", "--retention wants off"),
    ("trailing-comma", "done=1d,", "--retention wants off"),
]


@pytest.mark.parametrize(
    ("value", "says"), [b[1:] for b in BAD_RETENTION], ids=[b[0] for b in BAD_RETENTION]
)
def test_a_bad_worker_retention_is_one_sentence_and_runs_nothing(
    aged: Aged, value: str, says: str
) -> None:
    before = snapshot(aged.db)
    line = assert_one_error(jobdeck(aged.db, "worker", "--retention", value), BAD_INPUT)
    assert says in line, line
    assert snapshot(aged.db) == before


@pytest.mark.parametrize("value", ["off", "done=1d,failed=off", "failed=12h", " DONE=1h30m "])
def test_a_good_worker_retention_is_taken(tmp_path: Path, value: str) -> None:
    ran = jobdeck(tmp_path / "jobs.db", "worker", "--burst", "--retention", value)
    assert ran.code == 0, ran.err


def test_a_worker_with_short_retention_prunes_old_jobs_by_itself(aged: Aged) -> None:
    worker = spawn(aged.db, "worker", "--retention", "done=2d,failed=off", "--kind", "demo.echo")
    with reaped(worker):
        wait_until(
            lambda: not rows_of(aged.db, [*aged.old_done, aged.original])["jobs"],
            timeout=10,
            what="the worker to prune the old done jobs",
        )
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    assert rows_of(aged.db, aged.old_failed)["jobs"] == 2  # failed=off
    assert rows_of(aged.db, [aged.rerun, aged.recent, aged.queued])["jobs"] == 3
    assert query(aged.db, "SELECT name FROM leases")[0][0] == "retention"
    counts_are_exact(aged.db)


def test_the_defaults_are_a_week_for_done_and_thirty_days_for_failed() -> None:
    """What the README promises."""
    retention = core_retention.DEFAULT
    assert (retention.done, retention.failed, retention.every) == (7 * DAY, 30 * DAY, 60.0)
