"""Every command line, property-based: commands and flags with wrong types, negative, zero and
huge numbers, unknown kinds and ids, control characters, undecodable bytes and SQL-looking text.
Whatever the line, the command ends with an exit code; an error is one line with a documented
code (2 bad input, 3 not found, 4 transition, 5 storage), no traceback, and nothing written."""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.cli.harness import query
from tests.fuzz.driver import cli, snapshot
from tests.fuzz.test_store_text import SQL_LOOKING

# What an argument can hold: any character but NUL, undecodable bytes arriving as surrogates.
TEXT = st.text(st.characters(exclude_categories=(), exclude_characters="\x00"), max_size=12)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "-1", "1", "nan", "inf", "-inf", "1e3", "0x10", "", " 5", "٣", "1_0"]),
)
FREE = st.one_of(TEXT, NUMBERS, st.sampled_from(SQL_LOOKING))
KINDS = st.one_of(st.sampled_from(["demo.echo", "demo.charge", "demo.random"]), FREE)
PAYLOADS = st.one_of(
    st.sampled_from(['{"n": 1}', '{"id": "c", "amount": 5, "currency": "EUR"}', "{}", "-"]), FREE
)
STATUSES = st.one_of(st.sampled_from(["queued", "running", "done", "failed"]), FREE)


def _shape_ok(spec: str) -> bool:
    module, _, attr = spec.partition(":")
    return bool(module and attr and all(p.isidentifier() for p in module.split(".")))


# --handlers: real registries, the wrong kind of object, and modules that cannot exist. Random
# text that has the shape of a module path is never imported as such: it might name a real one.
HANDLERS = st.one_of(
    st.sampled_from(
        [
            "tests.reliability.kinds:registry",
            "tests.reliability.kinds:nothing",
            "json:dumps",
            "tests.fuzz.no_such_module:registry",
            ":",
            "a:",
            ":b",
            "a..b:c",
            "../../etc/passwd:x",
            "__import__('os'):system",
        ]
    ),
    st.from_regex(r"\Ajobdeck_fuzz_[a-z_]{1,8}:[a-z]{1,6}\Z"),
    TEXT.filter(lambda spec: not _shape_ok(spec)),
)


@st.composite
def command_lines(draw: Any, ids: list[str]) -> list[str]:
    """One jobdeck command line (never one that waits: no --wait, --follow, tui or demo)."""
    job_ids = st.one_of(st.sampled_from(ids), st.sampled_from(ids).map(lambda i: i[-6:]), FREE)
    argv: list[str] = []
    if draw(st.integers(0, 4)) == 0:
        argv += ["--handlers", draw(HANDLERS)]
    command = draw(
        st.sampled_from(["submit", "list", "show", "events", "rerun", "fail", "status", "worker"])
    )
    argv.append(command)

    def option(flag: str, values: st.SearchStrategy[str]) -> None:
        if draw(st.booleans()):
            argv.extend([flag, draw(values)])

    def switch(flag: str) -> None:
        if draw(st.booleans()):
            argv.append(flag)

    match command:
        case "submit":
            argv.append(draw(KINDS))
            if draw(st.booleans()):
                argv.append(draw(PAYLOADS))
            option("--key", FREE)
            option("--max-attempts", NUMBERS)
            switch("--json")
        case "list":
            option("--status", STATUSES)
            option("--kind", KINDS)
            option("--limit", NUMBERS)
            switch("--json")
        case "show":
            argv.append(draw(job_ids))
            switch("--json")
        case "events":
            option("--since", NUMBERS)
            switch("--json")
        case "rerun":
            argv.append(draw(job_ids))
            option("--from-step", FREE)
            switch("--json")
        case "fail":
            if draw(st.booleans()):
                argv.append(draw(job_ids))
            option("--kind", KINDS)
            switch(draw(st.sampled_from(["--retryable", "--terminal"])))
            option("--times", NUMBERS)
            option("--reason", FREE)
            option("--at-step", FREE)
        case "worker":
            argv.append("--burst")
            option("--concurrency", NUMBERS)
            option("--lease", NUMBERS)
            option("--kind", KINDS)
    if draw(st.integers(0, 9)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(FREE))  # a stray word anywhere
    return argv


@dataclass(frozen=True)
class Db:
    path: Path
    ids: list[str]  # the jobs it started with: a strategy must not depend on what examples add


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    path = tmp_path_factory.mktemp("arguments") / "jobs.db"
    for payload in ('{"n": 0}', '{"amount": 5, "currency": "EUR"}', '{"n": 1}'):
        kind = "demo.charge" if "amount" in payload else "demo.echo"
        assert cli(path, "submit", kind, payload).code == 0
    assert cli(path, "worker", "--burst").code == 0
    assert cli(path, "submit", "demo.echo", '{"n": "queued"}').code == 0
    return Db(path, [r[0] for r in query(path, "SELECT id FROM jobs ORDER BY id")])


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_command_line_ends_in_an_exit_code_and_at_most_one_error_line(
    db: Db, data: st.DataObject
) -> None:
    argv = data.draw(command_lines(db.ids), label="argv")
    before = snapshot(db.path)
    ran = cli(db.path, *argv)
    event(f"{argv[0] if argv[0] != '--handlers' else 'handlers'}: exit {ran.code}")
    assert "Traceback" not in ran.err and "database is locked" not in ran.err, ran.err
    if ran.code == 0:
        return
    assert ran.code in (2, 3, 4, 5), (ran.code, ran.err)
    assert len(ran.err_lines) == 1 and ran.err.count("\n") == 1, ran.err
    assert ran.err.startswith("jobdeck: "), ran.err
    assert snapshot(db.path) == before, argv


def test_no_keyword_or_builtin_module_is_generated_as_a_handler() -> None:
    """A guard on the strategy above: random text never names a module to import."""
    assert not _shape_ok("not a spec") and _shape_ok("os:path")
    assert all(not _shape_ok(f"{k}") for k in keyword.kwlist)
