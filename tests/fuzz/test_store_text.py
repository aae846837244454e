"""Text into the store's read API (the monitor's filter box, `list --kind`, id lookups, failure
groups), property-based: every string is plain text, never SQL and never a wildcard. Each answer
is what a plain substring match over the rows says, and the tables are intact afterwards."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobdeck.core import Engine, JobdeckError, Status, Worker, demo_registry
from jobdeck.storage import open_store

SQL_LOOKING = [
    "'; DROP TABLE jobs; --",
    '" OR 1=1 --',
    "') OR ('1'='1",
    "x' UNION SELECT sqlite_version() --",
    "%",
    "_",
    "\\",
    "%_%",
    "\\%",
    "demo%",
    "*",
    "'",
    '"',
    ";",
    "/*",
    "--",
    "\x00",
    "echo' --",
    "NULL",
]
# What the fixture stores, in payloads (a payload may not hold NUL).
STORED = [*(t for t in SQL_LOOKING if t != "\x00"), "plain", "Ünïcödé", "100%", "a_b", "C:\\path"]
# NUL has its own test below: SQLite's LIKE stops reading a pattern at a NUL.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=10)
NEEDLES = st.one_of(st.sampled_from([t for t in SQL_LOOKING if t != "\x00"]), TEXT)


def like(haystack: str | None, needle: str) -> bool:
    """SQLite's LIKE without wildcards: a substring, case-insensitive for ASCII letters only."""
    fold = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    return haystack is not None and needle.translate(fold) in haystack.translate(fold)


def schema(db: Path) -> list[tuple[str, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        sql = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 2"
        rows = conn.execute(sql).fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return rows


class Fixture:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.loop = asyncio.new_event_loop()
        self.store = self.loop.run_until_complete(open_store(str(db)))
        self.engine = Engine(self.store, demo_registry())

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def rows(self) -> list[tuple[str, str, str, str | None, str]]:
        with closing(sqlite3.connect(self.db)) as conn:
            return conn.execute(
                "SELECT id, kind, payload, reason_code, status FROM jobs"
            ).fetchall()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    fx = Fixture(tmp_path_factory.mktemp("store_text") / "jobs.db")
    try:
        for i, text in enumerate(STORED):
            fx.run(fx.engine.submit("demo.echo", {"text": text, "i": i}))
            fx.run(fx.engine.submit("demo.charge", {"amount": 5, "currency": "EUR", "note": text}))
        fx.run(Worker(fx.engine, burst=True, poll=0.01).run())
        yield fx
    finally:
        fx.run(fx.store.close())
        fx.loop.close()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(needle=NEEDLES, status=st.sampled_from(list(Status)))
def test_filter_text_is_a_plain_substring_never_sql(
    store: Fixture, needle: str, status: Status
) -> None:
    before = schema(store.db)
    page = store.run(store.engine.page(status, text=needle, limit=1000))
    got = {job.id for job in page.jobs}
    want = {
        jid
        for jid, kind, payload, code, st_ in store.rows()
        if st_ == status.value
        and (not needle or any(like(v, needle) for v in (kind, jid, code, payload)))
    }
    assert got == want
    assert schema(store.db) == before


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(needle=NEEDLES)
def test_kind_filter_id_lookup_and_groups_take_text_as_text(store: Fixture, needle: str) -> None:
    before = schema(store.db)
    page = store.run(store.engine.page(Status.DONE, kind=needle, limit=1000))
    assert {j.kind for j in page.jobs} <= {needle}
    assert store.run(store.store.failed_with(needle, 10)) == [] or needle in {"missing_id"}
    try:
        found = store.run(store.engine.get(needle))
    except JobdeckError as err:
        assert str(err).endswith(".")
    else:
        assert needle in found.id and len(needle) >= 4
    assert schema(store.db) == before


def test_sql_looking_payloads_come_back_verbatim(store: Fixture) -> None:
    texts = sorted(json.loads(p)["text"] for _, k, p, _, _ in store.rows() if k == "demo.echo")
    assert texts == sorted(STORED)


@pytest.mark.parametrize(
    "call",
    ["page_text", "page_kind", "find", "events_since", "page_limit"],
)
def test_text_or_numbers_sqlite_cannot_bind_are_a_jobdeck_error(store: Fixture, call: str) -> None:
    calls = {
        "page_text": lambda: store.engine.page(Status.DONE, text="\udcff"),
        "page_kind": lambda: store.engine.page(Status.DONE, kind="\udcff"),
        "find": lambda: store.engine.get("\udcff\udcff\udcff\udcff"),
        "events_since": lambda: store.engine.events(since=2**64),
        "page_limit": lambda: store.engine.page(Status.DONE, limit=2**64),
    }
    with pytest.raises(JobdeckError):
        store.run(calls[call]())


def test_filter_text_holding_a_nul_matches_only_text_holding_it(store: Fixture) -> None:
    page = store.run(store.engine.page(Status.DONE, text="\x00", limit=1000))
    assert page.jobs == []
