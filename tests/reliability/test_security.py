"""Security: payloads are data, never code; every SQL statement is parameterized; database files
are the owner's alone; `--handlers` imports exactly the module named; a read-only store cannot
write, down to SQLite itself."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from jobdeck.core import Engine, Fault, Registry, StorageError, demo_registry
from jobdeck.core.contract import CompensationStatus, Status, Step, StepStatus
from jobdeck.core.limits import KindLimits
from jobdeck.core.store import Action, CancelRequest, Change, Store
from jobdeck.core.system import WorkerInfo
from jobdeck.storage import open_store
from jobdeck.storage.sqlite import queries as sqlite_queries
from tests.cli.harness import (
    REPO,
    assert_one_error,
    command,
    finish,
    jobdeck,
    query,
    reaped,
    run_env,
    snapshot,
    wait_until,
)
from tests.fuzz.driver import cli
from tests.fuzz.test_store_text import SQL_LOOKING
from tests.reliability.test_crash_and_log import replay

SOURCES = [p for folder in ("core", "storage") for p in sorted((REPO / folder).rglob("*.py"))]

# -- payloads are data ---------------------------------------------------------------------------


def test_core_and_storage_never_deserialize_or_evaluate_anything() -> None:
    forbidden = re.compile(
        r"\b(pickle|marshal|shelve|yaml|dill|jsonpickle|eval|exec|compile|__import__|"
        r"subprocess|os\.system|os\.popen)\b"
    )
    hits = []
    for path in SOURCES:
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if forbidden.search(code) and "re.compile" not in code:
                hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert hits == []
    # The one dynamic import: core's lazy attributes, from a fixed table of its own modules.
    dynamic = re.compile(r"import_module|importlib\.import|importlib import import|spec_from")
    imports = [f"{p.relative_to(REPO)}" for p in SOURCES if dynamic.search(p.read_text())]
    assert imports == ["core/__init__.py"]


CODE_LIKE = {
    "__reduce__": ["os.system", ["touch PWNED"]],
    "__class__": "subprocess.Popen",
    "expr": "__import__('os').system('touch PWNED')",
    "pickle": "gASVIAAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAt0b3VjaCBQV05FRJSFlFKULg==",
    "template": "{{7*7}} ${7*7} %(x)s {0.__class__}",
    "sql": "'); DROP TABLE jobs; --",
    "$where": "function() { return true; }",
    "nested": {"__proto__": {"admin": True}, "constructor": None},
}


def test_a_payload_that_looks_like_code_is_stored_and_echoed_verbatim(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    job_id = jobdeck(db, "submit", "demo.echo", json.dumps(CODE_LIKE)).out.strip()
    assert jobdeck(db, "worker", "--burst").code == 0
    shown = jobdeck(db, "show", job_id, "--json").json()
    assert shown["payload"] == CODE_LIKE
    assert shown["result"] == CODE_LIKE  # demo.echo returns its payload
    assert not (tmp_path / "PWNED").exists() and not (REPO / "PWNED").exists()
    replay(db)


# -- SQL is parameterized ------------------------------------------------------------------------
_EXECUTES = {"execute", "executemany", "executescript", "fetch", "fetchrow", "fetchval"}


def _placeholders_are_integers(template: str) -> bool:
    return all(spec == "d" for spec in re.findall(r"{\w+:?(\w*)}", template))


def _builders(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """A queries module's private functions (`_claim`, `_close_attempts` ...): each builds the text
    of Final constants from others, and the checks below hold that it runs at import time only."""
    return {
        f.name: f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("_")
    }


def _fixed(node: ast.expr, builders: dict[str, ast.FunctionDef], inside: bool) -> bool:
    """Whether an expression's text is fixed when the module is imported: literals, constants,
    f-strings and conditionals of fixed parts, calls of builders with fixed arguments, and
    inside a builder its own parameters and locals (themselves fixed by this check)."""
    match node:
        case ast.Constant():
            return True
        case ast.Name(id=name):
            return name.upper() == name or inside
        case ast.JoinedStr(values=parts):
            return all(
                _fixed(p.value if isinstance(p, ast.FormattedValue) else p, builders, inside)
                for p in parts
            )
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return all(_fixed(e, builders, inside) for e in (test, body, orelse))
        case ast.Call(func=ast.Name(id=name), args=args, keywords=keywords):
            return (name in builders or name in ("repr", "str")) and all(
                _fixed(a, builders, inside) for a in [*args, *(k.value for k in keywords)]
            )
        case ast.Call(func=ast.Attribute(value=value, attr="format"), args=args, keywords=kws):
            return all(_fixed(a, builders, inside) for a in [value, *args, *(k.value for k in kws)])
    return False


def test_no_sql_statement_is_built_from_runtime_text() -> None:
    """Statically: what storage hands a driver is a named constant (or a variable holding one),
    never an f-string, a concatenation or a %-format; a `.format()` fills in integers only; and
    the constants' own f-strings interpolate only other constants, or, inside a queries
    module's private builder, its parameters: text that every call of it fixes at import time
    (each call is at module level or in another builder, with fixed arguments, and no other
    module calls a builder)."""
    problems = []
    builder_names: dict[str, str] = {}
    for path in sorted((REPO / "storage").rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = path.relative_to(REPO)
        builders = _builders(tree) if "queries" in path.name else {}
        builder_names |= dict.fromkeys(builders, str(where))
        inside_builder = {
            id(node) for f in builders.values() for node in ast.walk(f) if node is not f
        }
        for node in ast.walk(tree):
            inside = id(node) in inside_builder
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in _EXECUTES and node.args:
                    sql = node.args[0]
                    if isinstance(sql, ast.JoinedStr | ast.BinOp):
                        problems.append(f"{where}:{node.lineno}: SQL built inline")
                if node.func.attr == "format" and isinstance(node.func.value, ast.Attribute):
                    name = node.func.value.attr
                    template = getattr(sqlite_queries, name, None)
                    if template is not None and not _placeholders_are_integers(template):
                        problems.append(f"{where}:{node.lineno}: {name} formats text at runtime")
            called = (
                node.func.id
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                else ""
            )
            if called in builders and not _fixed(node, builders, inside):
                problems.append(f"{where}:{node.lineno}: {called} given runtime text")
            queries = "queries" in path.name
            if isinstance(node, ast.JoinedStr) and queries and not _fixed(node, builders, inside):
                problems.append(f"{where}:{node.lineno}: a query interpolates non-constants")
    for path in sorted((REPO / "storage").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in builder_names:
                problems.append(f"{path.relative_to(REPO)}:{node.lineno}: calls {node.attr}")
    assert problems == []


def tables(db: Path) -> list[tuple[str, ...]]:
    """jobdeck's schema (SQLite's own statistics tables come and go with PRAGMA optimize)."""
    sql = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 2"
    return [tuple(r) for r in query(db, sql)]


def test_sql_looking_text_through_every_cli_entry_is_stored_as_text(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    assert cli(db, "submit", "demo.echo", '{"seed": 1}').code == 0
    schema = tables(db)
    # NUL cannot be in an argument; argparse itself turns `--key=--` into an empty key.
    texts = [t for t in SQL_LOOKING if t not in ("\x00", "--")]
    for n, text in enumerate(texts):
        payload = json.dumps({text: text, "n": n})
        job_id = cli(db, "submit", "demo.echo", payload, f"--key={text}").out.strip()
        assert cli(db, "fail", job_id, f"--reason={text}").code == 0
        for argv in (  # `--flag=TEXT` and `--` before a positional: TEXT may start with a dash
            ["list", f"--kind={text}"],
            ["list", "--status", "queued", f"--kind={text}", "--json"],
            ["show", "--", text],
            ["rerun", "--", text],
            ["fail", f"--kind={text}"],
            ["submit", "--", text, "{}"],
            ["worker", "--burst", f"--kind={text}"],
        ):
            ran = cli(db, *argv)
            assert "Traceback" not in ran.err and (ran.code == 0 or len(ran.err_lines) == 1)
        (row,) = query(db, "SELECT payload, idempotency_key FROM jobs WHERE id = ?", (job_id,))
        assert json.loads(row["payload"]) == {text: text, "n": n}
        assert row["idempotency_key"] == text
        (fault,) = query(db, "SELECT reason FROM faults WHERE job_id = ?", (job_id,))
        assert fault["reason"] == text
    assert cli(db, "worker", "--burst").code == 0
    assert tables(db) == schema
    assert query(db, "PRAGMA integrity_check")[0][0] == "ok"
    statuses = {r[0]: r[1] for r in query(db, "SELECT status, count(*) FROM jobs GROUP BY 1")}
    assert statuses == {"done": 1, "failed": len(texts)}  # each failed by its armed fault
    replay(db)


# -- files are the owner's -------------------------------------------------------------------------
def test_database_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    worker = subprocess.Popen(
        command(db, "worker"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=run_env(),
        preexec_fn=lambda: os.umask(0),  # what the process would otherwise create: 0666
    )
    with reaped(worker):
        wait_until(lambda: query_workers(db) == 1, what="the worker to start")
        modes = {s: stat.S_IMODE(os.stat(f"{db}{s}").st_mode) for s in ("", "-wal", "-shm")}
        worker.send_signal(signal.SIGTERM)
        assert finish(worker).code == 0
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}


def query_workers(db: Path) -> int:
    try:
        return int(query(db, "SELECT count(*) FROM workers")[0][0])
    except sqlite3.OperationalError:  # not created yet
        return 0


# -- --handlers imports what it is told, and nothing else ------------------------------------------
MARK = """
import os
with open(os.path.join(os.path.dirname(__file__), "..", "imported.log"), "a") as log:
    log.write(__name__ + "\\n")
"""


def handler_package(root: Path) -> None:
    pkg = root / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(MARK)
    (pkg / "named.py").write_text(
        MARK
        + "from jobdeck.core import Registry\n"
        + "registry = Registry()\n"
        + "@registry.kind('user.ok')\n"
        + "async def ok(ctx, payload):\n"
        + "    return {'ok': True}\n"
    )
    (pkg / "sibling.py").write_text(MARK + "from userpkg.named import registry\n")


def imported(root: Path) -> list[str]:
    log = root / "imported.log"
    return log.read_text().split() if log.exists() else []


def test_handlers_imports_only_the_named_module(tmp_path: Path) -> None:
    handler_package(tmp_path)
    # A queued job whose kind names the other module: a worker never imports by kind.
    registry = Registry()
    registry.kind("userpkg.sibling")(demo_registry().get("demo.echo").handler)

    async def seed() -> None:
        store = await open_store(str(tmp_path / "jobs.db"))
        await Engine(store, registry).submit("userpkg.sibling", {})
        await store.close()

    asyncio.run(seed())

    def run(*argv: str) -> Any:
        return jobdeck(tmp_path / "jobs.db", *argv, cwd=tmp_path)

    assert run("--handlers", "userpkg.named:registry", "submit", "user.ok", "{}").code == 0
    ran = run("--handlers", "userpkg.named:registry", "worker", "--burst")
    assert ran.code == 0, ran.err
    assert imported(tmp_path) == ["userpkg", "userpkg.named"] * 2
    statuses = {
        r[0]: r[1] for r in query(tmp_path / "jobs.db", "SELECT kind, reason_code FROM jobs")
    }
    assert statuses == {"user.ok": None, "userpkg.sibling": "unknown_kind"}
    for spec in ("userpkg.sibling", "__import__('userpkg.sibling'):x", "userpkg/sibling.py:x"):
        assert_one_error(run("--handlers", spec, "status"), 2)
    assert "userpkg.sibling" not in imported(tmp_path)


# -- a read-only store cannot write ----------------------------------------------------------------
READS = {
    "close", "get", "find", "attempts", "reruns", "counts", "page", "failure_groups",
    "failed_with", "events", "last_cursor", "faults", "workers_alive", "steps", "expired",
    "wait_for_jobs", "notifies", "schedules", "schedule_jobs", "scheduled", "limits",
    "oldest_finished", "prunable", "count_prunable", "records", "pruned_at",
    "cancel_requests", "wait_for_cancels", "paused_kinds", "kind_seen", "actions", "workers",
    "rollup", "rollup_sums", "kind_counts", "oldest_queued",
}  # fmt: skip


def write_calls(job: Any, running: Any) -> dict[str, Any]:
    """One call of every method of the Store Protocol that writes."""
    step = Step(job_id=running.id, name="s", seq=0, status=StepStatus.DONE, attempt=1, at=1.0)
    after = running.model_copy(update={"status": Status.DONE, "lease_owner": None})
    rerun = job.model_copy(update={"id": "01" + "R" * 24, "rerun_of": job.id})
    action = Action(1.0, "ops", "pause", "demo.echo")
    return {
        "insert": lambda s: s.insert([job.model_copy(update={"id": "01" + "N" * 24})]),
        "claim": lambda s: s.claim("w", [], 10, 1e12, 30),
        "apply": lambda s: s.apply([Change(running, after)]),
        "apply_and_claim": lambda s: s.apply_and_claim(
            [Change(running, after)], "w", [], 10, 1e12, 30
        ),
        "heartbeat": lambda s: s.heartbeat(running.lease_owner, [running.id], 1e12, 1.0),
        "arm_fault": lambda s: s.arm_fault(Fault(kind="demo.echo")),
        "touch_worker": lambda s: s.touch_worker("w", 1.0),
        "forget_worker": lambda s: s.forget_worker("w"),
        "register_worker": lambda s: s.register_worker(
            WorkerInfo("w", "h", 1, "v", 1.0, 30.0, 1, ()), 1.0
        ),
        "beat_worker": lambda s: s.beat_worker("w", 1.0, 0, 0),
        "fold_rollup": lambda s: s.fold_rollup(1.0),
        "record_step": lambda s: s.record_step(running, step),
        "record_compensation": lambda s: s.record_compensation(
            running, "s", CompensationStatus.DONE, 1, None, 1.0
        ),
        "insert_rerun": lambda s: s.insert_rerun(rerun, []),
        "declare_schedules": lambda s: s.declare_schedules(
            [("n", "demo.echo", "* * * * *", "UTC")], 1.0
        ),
        "make_ticks": lambda s: s.make_ticks(
            "n", 1.0, [(60.0, job.model_copy(update={"id": "01" + "T" * 24}))]
        ),
        "pause_schedule": lambda s: s.pause_schedule("n", paused=True, reason=None, now=1.0),
        "prune": lambda s: s.prune([job.id], {Status.DONE: 1e12, Status.FAILED: 1e12}, 1.0),
        "take_lease": lambda s: s.take_lease("retention", "w", 1.0, 60.0),
        "cancel_queued": lambda s: s.cancel_queued([], action),
        "request_cancel": lambda s: s.request_cancel(
            [CancelRequest(running.id, running.attempt, "ops", 1.0)], action
        ),
        "pause_kind": lambda s: s.pause_kind("demo.echo", paused=True, reason=None, action=action),
        "record_action": lambda s: s.record_action(action),
        "declare_limits": lambda s: s.declare_limits(
            "w", [KindLimits("demo.echo", concurrency=1)], 1.0
        ),
    }


async def test_a_read_only_store_refuses_every_write_down_to_sqlite(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.db")
    writer = await open_store(db)
    engine = Engine(writer, demo_registry())
    job = await engine.submit("demo.echo", {"n": 1})
    await engine.submit("demo.echo", {"n": 2})
    (claimed,) = await writer.claim("w1", [], 1, 1e12, 30)
    await writer.touch_worker("w", 1.0)
    await writer.close()
    before = snapshot(db)

    reader = await open_store(db, read_only=True)
    try:
        protocol = {
            name
            for name, _ in inspect.getmembers(Store)
            if not name.startswith("_") and name not in ("path", "read_only")
        }
        calls = write_calls(job, claimed.job)
        assert protocol == READS | set(calls), "a new Store method: is it a read or a write?"
        for name, call in calls.items():
            with pytest.raises(StorageError, match="read-only"):
                await call(reader)
            assert snapshot(db) == before, name
        read_only_engine = Engine(reader, demo_registry())
        for action in (
            read_only_engine.submit("demo.echo", {"n": 3}),
            read_only_engine.rerun(job.id),
            read_only_engine.arm_fault(kind="demo.echo"),
        ):
            with pytest.raises(StorageError):
                await action
        # Below the store's own check: the connection itself is mode=ro.
        with pytest.raises(StorageError, match="read-only"):
            await reader._run(lambda conn: conn.execute("DELETE FROM jobs"))
        assert (await reader.counts())[Status.QUEUED] == 1
    finally:
        await reader.close()
    assert snapshot(db) == before
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM workers").fetchone()[0] == 1
