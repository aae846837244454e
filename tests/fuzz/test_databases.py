"""The database path and the file behind it, property-based: any path, any bytes in the file, a
schema from the future, a disk that refuses writes. Each is a 0600 jobdeck database, or one line,
exit 5, no traceback, and the file (if any) exactly as it was."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobdeck.storage.sqlite import connection
from tests.cli.harness import assert_one_error, command, run_env, snapshot
from tests.fuzz.driver import cli

STORAGE = 5
FUZZ = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAME_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
NAMES = st.one_of(
    st.text(NAME_CHARS, min_size=1, max_size=20),
    st.sampled_from(["..", ".", "-", "--db", "file:x.db?mode=ro", "sqlite:///", "x" * 300]),
    st.lists(st.text(NAME_CHARS, min_size=1, max_size=6), min_size=2, max_size=3).map("/".join),
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@FUZZ
@given(name=NAMES)
def test_any_path_is_a_new_0600_database_or_one_line_and_nothing_made(name: str) -> None:
    if name.startswith(("postgres://", "postgresql://")):
        return  # a server address, not a path
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, name)
        reading = cli(db, "status", "--json")  # a read never creates anything
        assert_one_error(reading, STORAGE)
        assert files(Path(folder)) == []
        ran = cli(db, "submit", "demo.echo", "{}")
        made = files(Path(folder))
        if ran.code == 0:
            path = Path(db if not db.startswith("sqlite:///") else db[len("sqlite:///") :])
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, made
            assert cli(db, "status", "--json").json()["queued"] == 1
        else:
            assert_one_error(ran, STORAGE)
            assert made == [], made


HEADER = b"SQLite format 3\x00"


@FUZZ
@given(data=st.binary(min_size=1, max_size=300), with_header=st.booleans())
def test_a_file_that_is_not_a_jobdeck_database_is_refused_and_left_alone(
    data: bytes, with_header: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "jobs.db"
        db.write_bytes((HEADER + data) if with_header else data)
        before = digest(db)
        for argv in (["status"], ["submit", "demo.echo", "{}"], ["worker", "--burst"]):
            assert_one_error(cli(db, *argv), STORAGE)
            assert digest(db) == before
        assert files(Path(folder)) == ["jobs.db"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "jobs.db"
    assert cli(path, "submit", "demo.echo", '{"n": 0}').code == 0
    return path


def test_a_schema_from_the_future_is_refused_by_every_command(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 1000")
        conn.commit()
    before = snapshot(db)
    for argv in (["status"], ["list"], ["submit", "demo.echo", "{}"], ["worker", "--burst"]):
        line = assert_one_error(cli(db, *argv), STORAGE)
        assert "newer jobdeck (schema 1000" in line
    assert snapshot(db) == before


def big_batch(folder: Path) -> Path:
    source = folder / "big.jsonl"
    source.write_text("".join(json.dumps({"n": i, "pad": "x" * 1000}) + "\n" for i in range(2000)))
    return source


def test_a_full_disk_is_one_sentence_and_the_database_is_unchanged(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLITE_FULL, for real: the connection may not grow the file by more than a few pages."""
    prepare: Callable[..., None] = connection.prepare

    def capped(conn: sqlite3.Connection, *args: object, **kwargs: object) -> None:
        prepare(conn, *args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 4}")

    monkeypatch.setattr(connection, "prepare", capped)
    monkeypatch.setattr("jobdeck.storage.sqlite.store.prepare", capped)
    before = snapshot(db)
    line = assert_one_error(cli(db, "submit", "demo.echo", "--from", str(big_batch(db.parent))))
    assert line == f"jobdeck: cannot write to {db}; the disk is full.", line
    assert snapshot(db) == before


def test_a_file_size_limit_mid_write_is_one_sentence_and_nothing_half_stored(db: Path) -> None:
    """The real process, with the kernel refusing to let any file grow past a few hundred KB."""
    source = big_batch(db.parent)
    before, limit = snapshot(db), db.stat().st_size + 200_000

    def cap_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG rather than die
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        command(db, "submit", "demo.echo", "--from", str(source)),
        cwd=db.parent,
        capture_output=True,
        env=run_env(),
        preexec_fn=cap_file_size,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == STORAGE and "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("jobdeck: a disk error stopped SQLite"), err
    assert snapshot(db) == before
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
