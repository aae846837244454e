"""status, list, show and events on a SQLite file read it with plain sqlite3 (storage.peek): no
pydantic, no contract models, no engine, no asyncio, and exactly what the engine path prints.

The database holds every shape `show` prints: a denial, an injected fault, retries exhausted, a
lost lease (queued again, and final), a retryable reason on the last attempt, a job with
attempts, steps with a done and an owed compensation, reruns two deep (idempotent) and a
diverged one, a running job and a queued one.
"""

from __future__ import annotations

import asyncio
import json
import select
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobdeck.core import Engine, Worker, contract, demo_registry
from jobdeck.core.derived import explain, rerun_changes
from jobdeck.core.rerun import verdict as rerun_verdict
from jobdeck.storage import open_store
from jobdeck.storage.sqlite import peek
from jobdeck.tui import cli
from jobdeck.tui.cli import run as cli_run
from jobdeck.tui.cli import system as cli_system
from tests.cli.harness import Ran, imports, jobdeck, reaped, spawn

# What the quick read commands must not load: each costs more than Python's own start-up.
HEAVY = ("pydantic", "pydantic_core", "jobdeck.core.contract", "jobdeck.core.engine", "asyncio")


@dataclass(frozen=True)
class Shapes:
    db: Path
    ids: dict[str, str]  # what the job shows -> its id


async def _build(db: Path) -> Shapes:
    store = await open_store(str(db))
    engine = Engine(store, demo_registry())
    ids: dict[str, str] = {}

    async def submit(name: str, kind: str, payload: dict[str, object], **kw: int) -> str:
        ids[name] = (await engine.submit(kind, payload, **kw)).id
        return ids[name]

    async def drain() -> None:
        await Worker(engine, concurrency=4, burst=True, poll=0.01, lease=10).run()

    async def lose_lease(kind: str) -> None:
        """Claim one job of `kind` under a lease that ends at once, then let recovery see it."""
        await store.claim("gone", [kind], 1, time.time(), 0.001)
        await asyncio.sleep(0.05)
        await engine.recover()

    try:
        await submit("done", "demo.echo", {"n": 1, "text": "héllo ✓ \u2028"})
        await submit("denied", "demo.charge", {"amount": 5, "currency": "EUR"})
        await submit("retried", "demo.flaky", {"fail_times": 1})
        await submit("exhausted", "demo.flaky", {"fail_times": 5}, max_attempts=2)
        await engine.arm_fault(job_id=await submit("faulted", "demo.sleep", {"seconds": 0}))
        last = await submit("last_retryable", "demo.echo", {"n": 3})
        await engine.arm_fault(job_id=last, retryable=True, reason="try again later")
        for name in ("compensated", "owed"):
            job = await submit(name, "demo.transfer", {"from": name, "to": "b", "amount": 3})
            await engine.arm_fault(job_id=job, at_step="credit", reason="credit is down")
        await submit("original", "demo.charge", {"id": "c1", "amount": 5, "currency": "EUR"})
        await submit("random", "demo.random", {})
        await drain()
        ids["rerun"] = (await engine.rerun(ids["original"])).id
        ids["diverged"] = (await engine.rerun(ids["random"])).id
        await drain()
        ids["rerun_of_rerun"] = (await engine.rerun(ids["rerun"])).id
        await drain()
        await submit("lost_final", "demo.echo", {"n": 4})
        await lose_lease("demo.echo")
        await submit("lost_queued", "demo.flaky", {"fail_times": 0})
        await lose_lease("demo.flaky")
        await asyncio.sleep(0.2)  # past its backoff (at most 0.1 s): "runs in 0.0 s" for both
        await submit("running", "demo.sleep", {"seconds": 9})
        await store.claim("busy", ["demo.sleep"], 1, time.time(), 3600)
        await submit("queued", "demo.echo", {"n": 2})
    finally:
        await store.close()
    # A worker that died between the failure and the compensation leaves it owed (pending).
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(
            "UPDATE steps SET compensation = NULL, compensation_attempts = 0 WHERE job_id = ?",
            (ids["owed"],),
        )
        conn.commit()
    return Shapes(db, ids)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Shapes:
    return asyncio.run(_build(tmp_path_factory.mktemp("shapes") / "jobs.db"))


def run(db: Path, argv: list[str], capsys: pytest.CaptureFixture[str], *, tty: bool) -> Ran:
    """The command in this process, as `main` runs it; stdout a terminal or not."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys.stdout, "isatty", lambda: tty)
        code = cli.main(["--db", str(db), *argv])
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def both(
    db: Path, argv: list[str], capsys: pytest.CaptureFixture[str], *, tty: bool = False
) -> tuple[Ran, Ran]:
    """(quick path, engine path) for one command line."""
    quick = run(db, argv, capsys, tty=tty)
    with pytest.MonkeyPatch.context() as patch:
        # Both places that choose the quick path: `open_peek` and the status command.
        patch.setattr(cli_run, "sqlite_file", lambda args: False)
        patch.setattr(cli_system, "sqlite_file", lambda args: False)
        engine = run(db, argv, capsys, tty=tty)
    return quick, engine


LISTS = [
    ["status"],
    ["status", "--json"],
    ["list"],
    ["list", "--json"],
    ["list", "--status", "failed"],
    ["list", "--status", "done", "--kind", "demo.charge", "--limit", "1", "--json"],
    ["list", "--kind", "demo.transfer"],
    ["list", "--limit", "3"],
    ["events", "--json"],
    ["events", "--since", "7"],
]


@pytest.mark.parametrize("argv", LISTS, ids=" ".join)
def test_status_list_and_events_print_what_the_engine_prints(
    shapes: Shapes, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for tty in (False, True):  # events prints text to a terminal, JSON Lines to a pipe
        quick, engine = both(shapes.db, argv, capsys, tty=tty)
        assert quick.code == 0, quick.err
        assert quick.out, argv
        assert quick == engine


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_show_prints_what_the_engine_prints_for_every_shape(
    shapes: Shapes, as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, job_id in shapes.ids.items():
        argv = ["show", job_id, *(["--json"] if as_json else [])]
        quick, engine = both(shapes.db, argv, capsys)
        assert quick.code == 0, (name, quick.err)
        assert quick == engine, name


def test_show_of_each_shape_says_what_it_should(
    shapes: Shapes, capsys: pytest.CaptureFixture[str]
) -> None:
    """A guard that the shapes above are what their names say (else the comparison is thin)."""

    def shown(name: str) -> str:
        return run(shapes.db, ["show", shapes.ids[name]], capsys, tty=False).out

    assert "compensation done (1 tries)" in shown("compensated")
    assert "compensation pending (0 tries)" in shown("owed")
    assert "retries exhausted after 2 of 2 attempts" in shown("exhausted")
    assert "lease lost on the last of 1 attempts" in shown("lost_final")
    assert "lease lost, attempt 1 of 5 failed; attempt 2 runs in 0.0 s" in shown("lost_queued")
    assert "injected: retryable, but attempt 1 of 1 was the last" in shown("last_retryable")
    assert "running attempt 1 of 3" in shown("running")
    assert f"        {shapes.ids['rerun_of_rerun']}  done  idempotent" in shown("original")
    assert f"{shapes.ids['diverged']}  done  diverged" in shown("random")


@pytest.mark.parametrize(
    "job_id",
    ["01", "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "a%_\\b", "ab\x00cd", "\n\tid\u2028"],
    ids=["short", "unknown", "like-wildcards", "nul", "control-characters"],
)
def test_show_refuses_a_bad_id_with_the_engines_sentence(
    shapes: Shapes, job_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    quick, engine = both(shapes.db, ["show", job_id], capsys)
    assert quick.code in (2, 3)
    assert quick == engine


def test_show_finds_a_unique_suffix_and_refuses_an_ambiguous_prefix(
    shapes: Shapes, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = shapes.ids["denied"]
    for text in (job_id[-8:], job_id[:4]):
        quick, engine = both(shapes.db, ["show", text, "--json"], capsys)
        assert quick == engine
    assert run(shapes.db, ["show", job_id[:4]], capsys, tty=False).code == 2  # every id shares it


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["list", "--status", "failed", "--kind", "demo.flaky"],
        ["show", "SHOWN"],
        ["show", "SHOWN", "--json"],
        ["events"],
    ],
    ids=" ".join,
)
def test_read_commands_do_not_import_pydantic_or_the_engine(
    shapes: Shapes, argv: list[str]
) -> None:
    imported = imports(shapes.db, *[shapes.ids["original"] if a == "SHOWN" else a for a in argv])
    assert "jobdeck.storage.sqlite.peek" in imported
    heavy = [m for m in imported if m in HEAVY or m.split(".")[0] in HEAVY]
    assert heavy == [], argv


def test_a_postgresql_url_still_goes_through_the_engine() -> None:
    args = cli.build_parser().parse_args(["--db", "postgresql://u@h/db", "list"])
    assert cli_run.open_peek(args) is None


# -- the engine's derivations, repeated in storage.peek, agree with the engine's own ---------------
# Few distinct leaves, so two draws are often equal, or equal but for 1 / 1.0 / True, or {} /
# {"a": null}: the cases where "the same result" is subtle.
JSON_VALUES = st.recursive(
    st.sampled_from([None, False, True, 0, 1, 0.0, 1.0, "", "a"]),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("ab"), inner, max_size=2)
    ),
    max_leaves=4,
)
FINISHED = (contract.Status.DONE, contract.Status.FAILED)
CATEGORIES = st.sampled_from([c.value for c in contract.Category])


@st.composite
def jobs(
    draw: st.DrawFn, statuses: Sequence[contract.Status] = tuple(contract.Status)
) -> contract.Job:
    status = draw(st.sampled_from(statuses))
    max_attempts = draw(st.integers(1, 4))
    reason = None
    if status is contract.Status.FAILED or draw(st.booleans()):
        reason = contract.Reason(
            code=draw(st.sampled_from(["a", "b"])),  # two codes: often the same
            message="m",
            category=draw(CATEGORIES),
            gate=draw(st.sampled_from([None, "missing_id"])),
            retryable=draw(st.booleans()),
        )
    return contract.Job(
        id=draw(st.sampled_from(["j1", "j2"])),
        kind="k",
        payload={},
        idempotency_key="k",
        status=status,
        attempt=draw(st.integers(0, max_attempts)),
        max_attempts=max_attempts,
        reason=reason,
        result=draw(JSON_VALUES),
        created_at=0,
        updated_at=0,
        run_after=draw(st.floats(0, 10)),
    )


def plain_job(job: contract.Job) -> peek.Job:
    """The row storage.peek reads for the same job."""
    reason = job.reason and peek.Reason(**job.reason.model_dump(mode="json"))
    fields = job.model_dump(mode="json") | {"reason": reason}
    return peek.Job(**{name: fields[name] for name in peek.Job._fields})


def done(result: object) -> contract.Job:
    return contract.Job(
        id="d", kind="k", payload={}, idempotency_key="k", status="done", attempt=1,
        result=result, created_at=0, updated_at=0, run_after=0,
    )  # fmt: skip


@settings(max_examples=300)
@given(original=jobs(FINISHED), rerun=jobs(FINISHED))
@example(done(1), done(1.0))
@example(done(True), done(1))
@example(done({}), done({"a": None}))
@example(done([0]), done([0.0]))
@example(done([1]), done([1, 1]))
def test_rerun_verdicts_agree_on_plain_rows_and_models(
    original: contract.Job, rerun: contract.Job
) -> None:
    theirs = rerun_verdict(original, rerun)
    mine = rerun_changes(plain_job(original), plain_job(rerun))
    assert mine == (theirs and theirs.diff)


@settings(max_examples=300)
@given(
    job=jobs(),
    outcome=st.sampled_from([o.value for o in contract.Outcome]),
    finished_at=st.none() | st.floats(0, 10),
    now=st.floats(0, 10),
)
def test_retry_explanations_agree_on_plain_rows_and_models(
    job: contract.Job, outcome: str, finished_at: float | None, now: float
) -> None:
    attempt = contract.Attempt(
        job_id=job.id, n=1, started_at=0, finished_at=finished_at, outcome=outcome
    )
    theirs = explain(job, [attempt], now)
    mine = explain(
        plain_job(job), [peek.Attempt(job.id, 1, 0, finished_at, outcome, None, None)], now
    )
    assert mine == theirs
    assert explain(plain_job(job), [], now) == explain(job, [], now)


def test_events_follow_prints_each_new_event_as_it_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    first = jobdeck(db, "submit", "demo.echo", '{"n": 1}').out.strip()
    follow = spawn(db, "events", "--follow")
    assert follow.stdout is not None
    with reaped(follow):

        def next_event() -> dict[str, object]:
            ready, _, _ = select.select([follow.stdout], [], [], 10)
            assert ready, "no event within 10 s"
            event: dict[str, object] = json.loads(follow.stdout.readline())
            return event

        assert next_event()["job_id"] == first
        second = jobdeck(db, "submit", "demo.echo", '{"n": 2}').out.strip()
        assert next_event()["job_id"] == second
        follow.send_signal(signal.SIGINT)
        assert follow.wait(10) == 130


async def _engine_stats(db: Path, now: float, window: float, kind: str | None) -> list[Any]:
    store = await open_store(str(db), read_only=True)
    try:
        engine = Engine(store, demo_registry(), clock=lambda: now)
        return await engine.kind_stats(since=window, kind=kind)
    finally:
        await store.close()


@pytest.mark.parametrize(("window", "kind"), [(900.0, None), (86_400.0, None), (60.0, "demo.echo")])
def test_stats_on_a_sqlite_file_reads_what_the_engine_reads(
    shapes: Shapes, window: float, kind: str | None
) -> None:
    now = time.time()
    quick = peek.Peek.open(str(shapes.db))
    assert quick is not None
    with quick:
        found = quick.kind_stats(now=now, window=window, kind=kind)
    assert found, "the shapes database has kinds"
    assert found == asyncio.run(_engine_stats(shapes.db, now, window, kind))
    assert kind is None or [s.kind for s in found] == [kind]
