"""The `jobdeck` command. Plain commands never import Textual; `demo` and `tui` do, when run.
The read commands on a SQLite file (status, list, show, events) do not even import the engine:
they read with `jobdeck.storage.peek` and print through the same `render` functions.

Every error is one line on stderr and a non-zero exit (2 bad input, 3 not found, 4 transition,
5 storage); `--debug` shows the traceback too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine
    from jobdeck.core.registry import Registry
    from jobdeck.storage.peek import Peek
    from jobdeck.tui.render import Detail, Event, Job

EXIT_USAGE = 2
JSON_LINES_BATCH = 5000
MAX_INT_DIGITS = 4000  # below Python's own int-parsing limit (4300 digits)
MAX_CURSOR = 2**63 - 1  # SQLite's largest integer
EVENTS_BATCH = 1000
FOLLOW_POLL = 0.25  # seconds between reads of the log with --follow


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # The message may quote a stray argument holding a line break: keep it one line.
        self.exit(EXIT_USAGE, f"jobdeck: {_printable(message)} (see --help).\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="jobdeck", description="A job engine with a live terminal monitor.")
    p.add_argument(
        "--db",
        default=None,
        help="SQLite file or postgresql:// URL (default: $JOBDECK_DB or ./jobdeck.db)",
    )
    p.add_argument("--handlers", metavar="MODULE:ATTR", help="a Registry of your own kinds")
    p.add_argument("--debug", action="store_true", help="show tracebacks and transition logs")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("submit", help="submit a job (or many with --from)")
    s.add_argument("kind")
    s.add_argument("payload", nargs="?", help="a JSON object, or - to read it from stdin")
    s.add_argument(
        "--from", dest="source", metavar="FILE", help="JSON Lines of payloads (- = stdin)"
    )
    s.add_argument("--key", help="idempotency key (default: hash of kind and payload)")
    s.add_argument("--max-attempts", type=int)
    s.add_argument("--wait", action="store_true", help="wait for the final state")
    s.add_argument("--json", action="store_true")

    w = sub.add_parser("worker", help="run jobs")
    w.add_argument("--handlers", dest="worker_handlers", metavar="MODULE:ATTR")
    w.add_argument("--concurrency", type=int, default=4)
    w.add_argument("--burst", action="store_true", help="exit when nothing is queued or running")
    w.add_argument("--lease", type=float, default=30.0, help="lease length in seconds")
    w.add_argument("--kind", action="append", default=[], help="only run these kinds")

    st = sub.add_parser("status", help="jobs per status")
    st.add_argument("--json", action="store_true")

    ls = sub.add_parser("list", help="list jobs, newest first")
    ls.add_argument("--status", choices=["queued", "running", "done", "failed"])
    ls.add_argument("--kind")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--json", action="store_true")

    sh = sub.add_parser("show", help="one job with every attempt and its reason")
    sh.add_argument("id")
    sh.add_argument("--json", action="store_true")

    ev = sub.add_parser("events", help="the transition log")
    ev.add_argument("--since", type=int, default=0, metavar="CURSOR")
    ev.add_argument("--follow", action="store_true")
    ev.add_argument("--json", action="store_true", help="JSON Lines (the default when piped)")

    rr = sub.add_parser("rerun", help="run a job's input again and compare outcomes")
    rr.add_argument("id")
    rr.add_argument("--from-step", metavar="NAME", help="reuse the results of steps before NAME")
    rr.add_argument("--wait", action="store_true")
    rr.add_argument("--json", action="store_true")

    f = sub.add_parser("fail", help="arm a fault: the next attempt(s) fail on purpose")
    f.add_argument("id", nargs="?")
    f.add_argument("--kind", dest="fault_kind")
    mode = f.add_mutually_exclusive_group()
    mode.add_argument("--retryable", action="store_true")
    mode.add_argument("--terminal", action="store_true")
    f.add_argument("--times", type=int, default=1)
    f.add_argument("--reason")
    f.add_argument("--at-step", metavar="NAME", help="fire just before this step")

    c = sub.add_parser("check", help="run the verification checklist on a fresh database")
    c.add_argument("--json", action="store_true")

    d = sub.add_parser("demo", help="open the monitor with workers and a demo workload")
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--tick", type=float, default=1.0)
    d.add_argument(
        "--fresh", action="store_true", help="delete the database first (default without --db)"
    )

    t = sub.add_parser("tui", help="open the monitor on a database")
    t.add_argument("--allow-faults", action="store_true")
    t.add_argument("--read-only", action="store_true")
    t.add_argument("--tick", type=float, default=1.0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.db is None and args.command == "demo":
        args.db, args.fresh = "jobdeck-demo.db", True
    args.db = args.db or _default_db()
    if args.debug or args.command in LONG_RUNNING:
        _configure_logging(args.debug)
    from jobdeck.core.errors import JobdeckError

    try:
        _check_text(args)
        return COMMANDS[args.command](args)
    except JobdeckError as err:
        return _fail(args, str(err), err.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        with suppress(OSError):
            sys.stdout.close()
        return 0


# Commands that run for a while and log what happens; the quick ones leave logging alone (a
# warning still reaches stderr through Python's last-resort handler).
LONG_RUNNING = frozenset({"worker", "demo", "tui", "check"})


def _configure_logging(debug: bool) -> None:
    import logging

    logging.basicConfig(
        level=logging.INFO if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def _default_db() -> str:
    return os.environ.get("JOBDECK_DB") or "jobdeck.db"


def _fresh(path: str) -> None:
    """Remove a demo database and its WAL files so the demo starts from nothing."""
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.remove(path + suffix)


def _check_text(args: argparse.Namespace) -> None:
    """Refuse arguments holding bytes that are not UTF-8 (Python hands them over as lone
    surrogates, which SQLite cannot store); the database path is the one exception, since a file
    name is bytes to the operating system."""
    from jobdeck.core.errors import InvalidInput

    for name, value in vars(args).items():
        if name in _PATHS:
            continue
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                positional = (args.command, name) in _POSITIONAL
                shown = name.upper() if positional else _OPTIONS.get(name, f"--{name}")
                raise InvalidInput(f"the {shown} argument is not valid UTF-8 text.") from None


_PATHS = frozenset({"db", "source"})
_POSITIONAL = frozenset(
    {("submit", "kind"), ("submit", "payload"), ("show", "id"), ("rerun", "id"), ("fail", "id")}
)
_OPTIONS = {
    "fault_kind": "--kind",
    "worker_handlers": "--handlers",
    "from_step": "--from-step",
    "at_step": "--at-step",
}


def _printable(message: str) -> str:
    """One line, whatever the message quotes back (an id or a kind with a newline in it)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    if args.debug:
        import traceback

        traceback.print_exc()
    message = _printable(message.rstrip())
    print(f"jobdeck: {message[0].lower() + message[1:] if message else 'error'}", file=sys.stderr)
    return code


# -- plumbing ----------------------------------------------------------------------------------
def _registry(args: argparse.Namespace) -> Registry:
    from jobdeck.core.demo import demo_registry

    registry = demo_registry()
    spec = getattr(args, "worker_handlers", None) or args.handlers
    return registry.merge(load_registry(spec)) if spec else registry


def load_registry(spec: str) -> Registry:
    """Import exactly the `module:attr` the user named and check it is a Registry."""
    from jobdeck.core.errors import InvalidInput, NotFound
    from jobdeck.core.registry import Registry

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr or not all(p.isidentifier() for p in module_name.split(".")):
        raise InvalidInput(
            f"--handlers wants MODULE:ATTR, such as examples.shop:registry, not {spec!r}."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise NotFound(f"cannot import {module_name!r}: {err}.") from None
    value = getattr(module, attr, None)
    if not isinstance(value, Registry):
        raise InvalidInput(f"{spec} is not a jobdeck Registry.")
    return value


def _run(
    args: argparse.Namespace,
    body: Callable[[Engine], Awaitable[int]],
    *,
    existing: bool = False,
    db: str | None = None,
) -> int:
    from jobdeck.core.engine import Engine
    from jobdeck.storage import open_store

    registry = _registry(args)

    async def go() -> int:
        store = await open_store(db or args.db, create=not existing)
        try:
            return await body(Engine(store, registry))
        finally:
            await store.close()

    import asyncio

    return asyncio.run(go())


def _sqlite_file(args: argparse.Namespace) -> bool:
    """Whether a read command may look at the database with plain sqlite3 (storage.peek) instead
    of the engine: a SQLite path or URL, and no --handlers module (loading and checking one is
    the engine's part, and a bad one is refused by every command alike)."""
    return not args.handlers and ("://" not in args.db or args.db.startswith("sqlite:///"))


def _peek(args: argparse.Namespace) -> Peek | None:
    """A read-only look at the SQLite file, without importing pydantic, the contract models or
    asyncio (the engine costs several times Python's own start-up); None when the command must
    go through the engine (see `_sqlite_file` and `Peek.open`)."""
    if not _sqlite_file(args):
        return None
    from jobdeck.storage.peek import Peek

    return Peek.open(args.db)


def _read_payload(text: str | None) -> Any:
    from jobdeck.core.errors import InvalidInput

    if text is None:
        return {}
    if text == "-":
        text = _read_stdin()
    try:
        return _loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"the payload is not valid JSON: {err.msg} at column {err.colno}."
        ) from None
    except ValueError as err:
        raise InvalidInput(f"the payload is not valid JSON: {err}.") from None


def _loads(text: str) -> Any:
    """json.loads for strict JSON: NaN, Infinity and numbers no float or int holds are refused
    (ValueError), so nothing stored can make a later `--json` output invalid."""
    from jobdeck.core.engine import MAX_PAYLOAD_DEPTH

    # Measured before parsing: thousands of nested brackets would drive the parser into a
    # RecursionError, which Python may also report from finalizers on stderr.
    if _nesting(text) > MAX_PAYLOAD_DEPTH + 1:
        raise ValueError(f"it nests deeper than {MAX_PAYLOAD_DEPTH} levels")
    try:
        return json.loads(
            text, parse_constant=_not_a_number, parse_float=_finite, parse_int=_integer
        )
    except RecursionError:
        raise ValueError(f"it nests deeper than {MAX_PAYLOAD_DEPTH} levels") from None


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _nesting(text: str) -> int:
    """The deepest bracket nesting of a JSON text, strings aside (cheap: two C-level scans)."""
    if text.count("[") + text.count("{") <= 32:
        return 0
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _not_a_number(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text):,} digits is too long")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def _read_stdin() -> str:
    from jobdeck.core.errors import InvalidInput

    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("standard input is not valid UTF-8.") from None


def _read_lines(source: str) -> list[Any]:
    """Parse and check a whole JSON Lines input before anything is stored."""
    from jobdeck.core.engine import check_payload
    from jobdeck.core.errors import InvalidInput, NotFound

    if source == "-":
        text = _read_stdin()
    else:
        try:
            with open(source, "rb") as file:
                text = file.read().decode("utf-8")
        except FileNotFoundError:
            raise NotFound(f"no such file: {source}.") from None
        except IsADirectoryError:
            raise InvalidInput(f"{source} is a directory, not a JSON Lines file.") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{source} is not valid UTF-8.") from None
        except OSError as err:
            raise InvalidInput(f"cannot read {source}: {err.strerror}.") from None
    payloads = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other line breaks raw.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            payload = _loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInput(
                f"line {n} is not valid JSON: {err.msg}; nothing was submitted."
            ) from None
        except ValueError as err:
            raise InvalidInput(
                f"line {n} is not valid JSON: {err}; nothing was submitted."
            ) from None
        # Checked here, not per stored batch: a bad line must stop every batch, not only its own.
        try:
            payloads.append(check_payload(payload))
        except InvalidInput as err:
            reason = str(err).rstrip(".")
            raise InvalidInput(f"line {n}: {reason}; nothing was submitted.") from None
    return payloads


# -- commands ----------------------------------------------------------------------------------
def cmd_submit(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput, JobdeckError
    from jobdeck.tui.render import dumps, job_line, reason_json

    if args.source is not None:
        if args.payload is not None or args.key or args.wait:
            raise InvalidInput(
                "--from takes payloads from the file alone; drop PAYLOAD, --key and --wait."
            )
        payloads = _read_lines(args.source)
    else:
        payloads = [_read_payload(args.payload)]

    async def body(engine: Engine) -> int:
        if args.source is not None:
            engine.registry.get(args.kind)
            stored = 0
            for i in range(0, len(payloads), JSON_LINES_BATCH):
                jobs = await engine.submit_many(
                    args.kind, payloads[i : i + JSON_LINES_BATCH], max_attempts=args.max_attempts
                )
                stored += len(jobs)
                try:
                    for job in jobs:
                        print(dumps(_submitted(job)) if args.json else job.id)
                except BrokenPipeError:
                    # Whoever read the ids is gone: stop, and say how far the submit got
                    # rather than exit 0 with most of the input silently dropped.
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    raise JobdeckError(
                        f"standard output closed after {stored:,} of {len(payloads):,} jobs "
                        "were stored; the rest were not submitted."
                    ) from None
            return 0
        job = await engine.submit(
            args.kind, payloads[0], key=args.key, max_attempts=args.max_attempts
        )
        if args.wait:
            job = await engine.wait(job.id)
        if args.json:
            print(dumps(_submitted(job) | ({"result": job.result} if args.wait else {})))
        elif args.wait:
            print(job_line(job))
        else:
            print(job.id)
        return 1 if args.wait and job.reason else 0

    def _submitted(job: Any) -> dict[str, Any]:
        return {"id": job.id, "status": job.status.value, "reason": reason_json(job.reason)}

    return _run(args, body)


def cmd_worker(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.core.worker import Worker

    if not 1 <= args.concurrency <= 10_000:
        raise InvalidInput(f"--concurrency must be between 1 and 10000, not {args.concurrency}.")
    if not 1 <= args.lease <= 86_400:
        raise InvalidInput(f"--lease must be between 1 and 86400 seconds, not {args.lease:g}.")

    async def body(engine: Engine) -> int:
        worker = Worker(
            engine,
            concurrency=args.concurrency,
            lease=args.lease,
            burst=args.burst,
            kinds=args.kind,
        )
        import asyncio
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set():
                worker.grace = 0  # a second signal: release in-flight jobs now
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        stats = await worker.run(stop)
        print(
            f"worker {worker.name}: {stats.done} done, {stats.failed} failed, "
            f"{stats.retried} retried, {stats.released} released",
            file=sys.stderr,
        )
        return 0

    return _run(args, body)


def cmd_status(args: argparse.Namespace) -> int:
    def show(counts: dict[str, int]) -> int:
        if args.json:
            print(json.dumps(counts))
        else:
            for name, n in counts.items():
                print(f"{name:<8} {n}")
        return 0

    if _sqlite_file(args):
        from jobdeck.storage.peek import sqlite_counts

        return show(sqlite_counts(args.db))

    async def body(engine: Engine) -> int:
        counts = await engine.counts()
        return show({s.value: counts.get(s, 0) for s in counts})

    return _run(args, body, existing=True)


def cmd_list(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.storage.peek import STATUSES
    from jobdeck.tui.render import dumps, job_json, job_line

    if not 1 <= args.limit <= 10_000:
        raise InvalidInput(f"--limit must be between 1 and 10000, not {args.limit}.")
    statuses = [args.status] if args.status else STATUSES

    def show(pages: list[Sequence[Job]]) -> int:
        """Print the newest --limit jobs of the pages (one per status)."""
        jobs = sorted((j for page in pages for j in page), key=lambda j: j.id, reverse=True)
        jobs = jobs[: args.limit]
        if args.json:
            print(dumps([job_json(j) for j in jobs]))
        else:
            for j in jobs:
                print(job_line(j))
        return 0

    peek = _peek(args)
    if peek is not None:
        with peek:
            return show([peek.page(s, limit=args.limit, kind=args.kind) for s in statuses])

    async def body(engine: Engine) -> int:
        from jobdeck.core.contract import Status

        pages = [await engine.page(Status(s), limit=args.limit, kind=args.kind) for s in statuses]
        return show([page.jobs for page in pages])

    return _run(args, body, existing=True)


def cmd_show(args: argparse.Namespace) -> int:
    from jobdeck.tui.render import detail_json, detail_text, dumps

    def show(detail: Detail) -> int:
        print(dumps(detail_json(detail)) if args.json else detail_text(detail))
        return 0

    peek = _peek(args)
    if peek is not None:
        with peek:
            return show(peek.detail(args.id, time.time()))

    async def body(engine: Engine) -> int:
        return show(await engine.detail(args.id))

    return _run(args, body, existing=True)


def cmd_events(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.tui.render import event_json_line, event_line

    as_json = args.json or not sys.stdout.isatty()

    if not 0 <= args.since <= MAX_CURSOR:
        raise InvalidInput(f"--since is an event cursor from 0 to {MAX_CURSOR}, not {args.since}.")

    def show(batch: Sequence[Event]) -> bool:
        """Print a batch of events; whether to read again (more may follow)."""
        if batch:  # one write a batch: a print per line costs more than the line
            lines = [event_json_line(e) if as_json else event_line(e) for e in batch]
            print("\n".join(lines), flush=args.follow)
        return bool(batch) or args.follow

    peek = _peek(args)
    if peek is not None:
        with peek:
            cursor = args.since
            while show(batch := peek.events(cursor, EVENTS_BATCH)):
                if batch:
                    cursor = batch[-1].cursor
                else:
                    time.sleep(FOLLOW_POLL)
        return 0

    async def body(engine: Engine) -> int:
        cursor = args.since
        while show(batch := await engine.events(cursor, EVENTS_BATCH)):
            if batch:
                cursor = batch[-1].cursor
            else:
                await _sleep(FOLLOW_POLL)
        return 0

    return _run(args, body, existing=True)


def cmd_rerun(args: argparse.Namespace) -> int:
    from jobdeck.tui.render import dumps, pretty, report_json

    async def body(engine: Engine) -> int:
        job = await engine.rerun(args.id, from_step=args.from_step)
        if not args.wait:
            print(dumps({"id": job.id, "rerun_of": job.rerun_of}) if args.json else job.id)
            return 0
        await engine.wait(job.id)
        report = await engine.report(job.id)
        if report is None:  # the original is still live: wait for it as well
            await engine.wait(job.rerun_of or job.id)
            report = await engine.report(job.id)
        assert report is not None
        if args.json:
            print(dumps(report_json(report)))
        else:
            mark = "✓" if report.verdict.value == "idempotent" else "✗"
            print(f"{mark} {report.verdict.value}: {job.id} reran {job.rerun_of}")
            if report.diff:
                print(pretty(report.diff))
        return 0

    return _run(args, body)


def cmd_fail(args: argparse.Namespace) -> int:
    async def body(engine: Engine) -> int:
        fault = await engine.arm_fault(
            job_id=args.id,
            kind=args.fault_kind,
            retryable=args.retryable,
            times=args.times,
            reason=args.reason,
            at_step=args.at_step,
        )
        target = f"job {fault.job_id}" if fault.job_id else f"kind {fault.kind}"
        mode = "retryable" if fault.retryable else "terminal"
        where = f" just before step {fault.at_step}" if fault.at_step else ""
        print(
            f"armed fault {fault.id}: the next {fault.times} attempt(s) of {target} "
            f"fail{where} ({mode})."
        )
        return 0

    return _run(args, body)


def cmd_check(args: argparse.Namespace) -> int:
    import tempfile

    from jobdeck.core.checklist import run_checks

    with tempfile.TemporaryDirectory(prefix="jobdeck-check-") as tmp:
        results: list[Any] = []

        async def body(engine: Engine) -> int:
            results.extend(await run_checks(engine))
            return 0

        _run(args, body, db=os.path.join(tmp, "check.db"))
    ok = all(r.ok for r in results)
    if args.json:
        shaped = [{"name": r.name, "ok": r.ok, "detail": r.detail} for r in results]
        print(json.dumps({"ok": ok, "checks": shaped}))
    else:
        for r in results:
            print(f"{'✓' if r.ok else '✗'} {r.name} — {r.detail}")
    return 0 if ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput

    if not 1 <= args.workers <= 64:
        raise InvalidInput(f"--workers must be between 1 and 64, not {args.workers}.")
    _check_tick(args.tick)
    from jobdeck.tui.app import run_monitor

    if args.fresh and "://" not in args.db:
        _fresh(args.db)
    return run_monitor(
        args.db,
        allow_faults=True,
        read_only=False,
        demo=True,
        workers=args.workers,
        tick=args.tick,
        registry=_registry(args),
    )


def _check_tick(tick: float) -> None:
    from jobdeck.core.errors import InvalidInput

    if not 0.05 <= tick <= 60:
        raise InvalidInput(f"--tick must be between 0.05 and 60 seconds, not {tick:g}.")


def cmd_tui(args: argparse.Namespace) -> int:
    from jobdeck.tui.app import run_monitor

    _check_tick(args.tick)

    return run_monitor(
        args.db,
        allow_faults=args.allow_faults,
        read_only=args.read_only,
        demo=False,
        tick=args.tick,
        registry=_registry(args),
    )


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "submit": cmd_submit,
    "worker": cmd_worker,
    "status": cmd_status,
    "list": cmd_list,
    "show": cmd_show,
    "events": cmd_events,
    "rerun": cmd_rerun,
    "fail": cmd_fail,
    "check": cmd_check,
    "demo": cmd_demo,
    "tui": cmd_tui,
}


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
