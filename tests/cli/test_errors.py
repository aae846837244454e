"""Every error is one line on stderr, a documented non-zero exit, no traceback, nothing written.

Exit codes (tui/cli/): 2 bad input, 3 not found, 5 storage.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import Populated
from tests.cli.harness import Ran, assert_one_error, jobdeck, snapshot

UNKNOWN_ID = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
BAD_INPUT, NOT_FOUND, STORAGE = 2, 3, 5

# (id, argv, stdin, exit code, words the one line must hold)
CASES = [
    ("bad-json", ["submit", "demo.echo", "{bad"], None, BAD_INPUT, "not valid JSON"),
    ("array", ["submit", "demo.echo", "[1, 2]"], None, BAD_INPUT, "not an array"),
    ("string", ["submit", "demo.echo", '"text"'], None, BAD_INPUT, "not a string"),
    ("null", ["submit", "demo.echo", "null"], None, BAD_INPUT, "not null"),
    ("stdin-array", ["submit", "demo.echo", "-"], "[]", BAD_INPUT, "JSON object"),
    ("nan", ["submit", "demo.echo", '{"a": NaN}'], None, BAD_INPUT, "NaN"),
    ("infinity", ["submit", "demo.echo", '{"a": 1e999}'], None, BAD_INPUT, "too large"),
    ("huge-int", ["submit", "demo.echo", '{"a": ' + "9" * 5000 + "}"], None, BAD_INPUT, "digits"),
    ("unknown-kind", ["submit", "demo.nope", "{}"], None, NOT_FOUND, "unknown kind 'demo.nope'"),
    ("unknown-kind-from", ["submit", "demo.nope", "--from", "-"], "{}\n", NOT_FOUND, "demo.nope"),
    ("show-unknown", ["show", UNKNOWN_ID], None, NOT_FOUND, UNKNOWN_ID),
    ("rerun-unknown", ["rerun", UNKNOWN_ID, "--wait"], None, NOT_FOUND, UNKNOWN_ID),
    ("fail-unknown", ["fail", UNKNOWN_ID], None, NOT_FOUND, UNKNOWN_ID),
    ("fail-unknown-kind", ["fail", "--kind", "demo.nope"], None, NOT_FOUND, "demo.nope"),
    ("fail-no-target", ["fail"], None, BAD_INPUT, "job id or a kind"),
    ("fail-times-0", ["fail", "--kind", "demo.echo", "--times", "0"], None, BAD_INPUT, "0"),
    ("fail-reason-2-lines", ["fail", "--kind", "demo.echo", "--reason", "a\nb"], None, 2, "line"),
    ("short-id", ["show", "01"], None, BAD_INPUT, "at least 4"),
    ("unknown-flag", ["status", "--bogus"], None, BAD_INPUT, "--bogus"),
    ("unknown-command", ["frobnicate"], None, BAD_INPUT, "frobnicate"),
    ("limit-0", ["list", "--limit", "0"], None, BAD_INPUT, "--limit"),
    ("bad-status", ["list", "--status", "lost"], None, BAD_INPUT, "lost"),
    ("concurrency-0", ["worker", "--burst", "--concurrency", "0"], None, BAD_INPUT, "concurrency"),
    ("lease-0", ["worker", "--burst", "--lease", "0"], None, BAD_INPUT, "--lease"),
    ("max-attempts-0", ["submit", "demo.echo", "{}", "--max-attempts", "0"], None, 2, "attempts"),
    ("empty-key", ["submit", "demo.echo", "{}", "--key", ""], None, BAD_INPUT, "key"),
    ("long-key", ["submit", "demo.echo", "{}", "--key", "k" * 201], None, BAD_INPUT, "key"),
    ("handlers-bad-spec", ["--handlers", "bad:spec", "status"], None, NOT_FOUND, "'bad'"),
    ("handlers-no-attr", ["--handlers", "not a spec", "status"], None, BAD_INPUT, "MODULE:ATTR"),
    (
        "handlers-missing-module",
        ["worker", "--burst", "--handlers", "no_such_jobdeck_module:registry"],
        None,
        NOT_FOUND,
        "no_such_jobdeck_module",
    ),
    ("handlers-not-registry", ["--handlers", "json:dumps", "status"], None, 2, "not a jobdeck"),
    ("stdin-not-utf8", ["submit", "demo.echo", "-"], b'{"a": "\xff\xfe"}', BAD_INPUT, "UTF-8"),
    ("from-not-utf8", ["submit", "demo.echo", "--from", "-"], b"{}\n\xc3(\n", 2, "UTF-8"),
    ("nul", ["submit", "demo.echo", '{"a": "x\\u0000y"}'], None, BAD_INPUT, "NUL"),
    ("nul-key", ["submit", "demo.echo", '{"\\u0000": 1}'], None, BAD_INPUT, "NUL"),
    ("lone-surrogate", ["submit", "demo.echo", '{"a": "\\ud800"}'], None, BAD_INPUT, "UTF-8"),
    (
        "2mb-payload",
        ["submit", "demo.echo", "-"],
        json.dumps({"blob": "x" * 2_000_000}),
        BAD_INPUT,
        "limit",
    ),
    (
        "deep-payload",
        ["submit", "demo.echo", '{"a":' * 40 + "1" + "}" * 40],
        None,
        BAD_INPUT,
        "nests deeper",
    ),
    ("from-missing-file", ["submit", "demo.echo", "--from", "nowhere.jsonl"], None, 3, "nowhere"),
]


@dataclass(frozen=True)
class Outcome:
    ran: Ran
    before: tuple[object, ...]
    after: tuple[object, ...]


@pytest.fixture(scope="module")
def outcomes(populated: Populated, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every case once, a few at a time, each on its own copy of the populated database:
    the cases are independent processes, and running them side by side halves the wait."""
    root = tmp_path_factory.mktemp("errors")

    def one(case: tuple) -> tuple[str, Outcome]:
        name, argv, stdin = case[0], case[1], case[2]
        db = root / name / "jobs.db"
        db.parent.mkdir()
        shutil.copy(populated.db, db)
        before = snapshot(db)
        ran = jobdeck(db, *argv, stdin=stdin)
        return name, Outcome(ran, before, snapshot(db))

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, CASES))


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [(case[0], case[3], case[4]) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_one_line_and_writes_nothing(
    outcomes: dict[str, Outcome], name: str, code: int, words: str
) -> None:
    outcome = outcomes[name]
    line = assert_one_error(outcome.ran, code)
    assert words in line
    assert outcome.ran.out == ""
    assert outcome.after == outcome.before


def test_a_missing_directory_is_refused_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "missing" / "jobs.db"
    for argv in (["status"], ["submit", "demo.echo", "{}"]):
        line = assert_one_error(jobdeck(db, *argv, cwd=tmp_path), STORAGE)
        assert "does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_reading_commands_do_not_create_a_database(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    for argv in (["status"], ["show", UNKNOWN_ID]):
        assert "no database" in assert_one_error(jobdeck(db, *argv), STORAGE)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(b"these are my notes, not a database\n" * 10)
    for argv in (["status"], ["submit", "demo.echo", "{}"]):
        assert "not an SQLite file" in assert_one_error(jobdeck(db, *argv), STORAGE)
    assert db.read_bytes() == b"these are my notes, not a database\n" * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_another_programs_sqlite_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    line = assert_one_error(jobdeck(db, "submit", "demo.echo", "{}"), STORAGE)
    assert "another program" in line
    with closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["notes"]


def test_a_database_of_a_newer_schema_is_refused(scratch: Populated) -> None:
    with closing(sqlite3.connect(scratch.db)) as conn:
        conn.execute("PRAGMA user_version = 99")
        conn.commit()
    before = snapshot(scratch.db)
    for argv in (["status", "--json"], ["worker", "--burst"]):
        line = assert_one_error(jobdeck(scratch.db, *argv), STORAGE)
        assert "newer jobdeck (schema 99" in line
    assert snapshot(scratch.db) == before


def test_a_directory_as_database_is_refused(tmp_path: Path) -> None:
    line = assert_one_error(jobdeck(tmp_path, "status", cwd=tmp_path), STORAGE)
    assert "is a directory" in line


def test_debug_shows_the_traceback_on_request(scratch: Populated) -> None:
    ran = jobdeck(scratch.db, "--debug", "show", UNKNOWN_ID)
    assert ran.code == NOT_FOUND
    assert "Traceback" in ran.err
    assert ran.err_lines[-1].startswith("jobdeck: ")
