"""The commands about the system as a whole: a worker, the counts, the registered workers, the
per-kind stats, the event log and the verification checklist."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jobdeck.tui.cli.inputs import listen_address, retention, stats_window
from jobdeck.tui.cli.metrics import endpoint
from jobdeck.tui.cli.run import open_peek, run_engine, sqlite_file

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine
    from jobdeck.core.system import KindStats
    from jobdeck.tui.render import Action, Event

MAX_CURSOR = 2**63 - 1  # SQLite's largest integer
EVENTS_BATCH = 1000
FOLLOW_POLL = 0.25  # seconds between reads of the log with --follow


def cmd_worker(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.core.retention import DEFAULT
    from jobdeck.core.worker import Worker

    if not 1 <= args.concurrency <= 10_000:
        raise InvalidInput(f"--concurrency must be between 1 and 10000, not {args.concurrency}.")
    if not 1 <= args.lease <= 86_400:
        raise InvalidInput(f"--lease must be between 1 and 86400 seconds, not {args.lease:g}.")
    keep = DEFAULT if args.retention is None else retention(args.retention)
    listen = (
        listen_address(args.metrics_listen, "--metrics-listen") if args.metrics_listen else None
    )

    async def body(engine: Engine) -> int:
        worker = Worker(
            engine,
            concurrency=args.concurrency,
            lease=args.lease,
            burst=args.burst,
            kinds=args.kind,
            retention=keep,
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
        async with endpoint(engine.store, listen):
            stats = await worker.run(stop)
        outages = (
            f", {stats.outages} store outages ({stats.late} late results refused)"
            if stats.outages
            else ""
        )
        print(
            f"worker {worker.name}: {stats.done} done, {stats.failed} failed, "
            f"{stats.retried} retried, {stats.released} released{outages}",
            file=sys.stderr,
        )
        return 0

    return run_engine(args, body)


def cmd_workers(args: argparse.Namespace) -> int:
    from jobdeck.tui.render import dumps
    from jobdeck.tui.render_system import worker_json, workers_text

    async def body(engine: Engine) -> int:
        now = engine.clock()
        workers = await engine.workers(now)
        if args.json:
            print(dumps([worker_json(w, now) for w in workers]))
        else:
            print(workers_text(workers, now))
        return 0

    return run_engine(args, body, existing=True, read_only=True)


def cmd_stats(args: argparse.Namespace) -> int:
    from jobdeck.tui.render import dumps
    from jobdeck.tui.render_system import kind_stats_json, kind_stats_text

    window = stats_window(args.since)

    def show(stats: list[KindStats]) -> int:
        if args.json:
            print(dumps([kind_stats_json(s) for s in stats]))
        else:
            print(kind_stats_text(stats, args.since.strip().lower()))
        return 0

    # A SQLite file is read with plain sqlite3 (the engine's queries, no event loop or thread).
    peek = open_peek(args)
    if peek is not None:
        with peek:
            return show(peek.kind_stats(now=time.time(), window=window, kind=args.kind))

    async def body(engine: Engine) -> int:
        return show(await engine.kind_stats(since=window, kind=args.kind))

    return run_engine(args, body, existing=True, read_only=True)


def cmd_status(args: argparse.Namespace) -> int:
    def show(counts: dict[str, int]) -> int:
        if args.json:
            print(json.dumps(counts))
        else:
            for name, n in counts.items():
                print(f"{name:<8} {n}")
        return 0

    if sqlite_file(args):
        from jobdeck.storage.sqlite.peek import sqlite_counts

        return show(sqlite_counts(args.db))

    async def body(engine: Engine) -> int:
        counts = await engine.counts()
        return show({s.value: counts.get(s, 0) for s in counts})

    return run_engine(args, body, existing=True)


def cmd_events(args: argparse.Namespace) -> int:
    """The events log with the operator trail in place: each action right after the event that
    was the newest when it was written. The trail is read before each batch of events, so every
    event an action follows is in that batch or an earlier one."""
    from jobdeck.core.errors import InvalidInput

    if not 0 <= args.since <= MAX_CURSOR:
        raise InvalidInput(f"--since is an event cursor from 0 to {MAX_CURSOR}, not {args.since}.")
    log = _Log(args.json or not sys.stdout.isatty(), args.since, args.follow)

    peek = open_peek(args)
    if peek is not None:
        with peek:
            cursor = args.since
            while True:
                log.pending += peek.actions(after_id=log.after_id, since=args.since, limit=TRAIL)
                if not log.show(batch := peek.events(cursor, EVENTS_BATCH)):
                    break
                if batch:
                    cursor = batch[-1].cursor
                else:
                    time.sleep(FOLLOW_POLL)
        return 0

    async def body(engine: Engine) -> int:
        cursor = args.since
        while True:
            log.pending += await engine.actions(
                after_id=log.after_id, since=args.since, limit=TRAIL
            )
            if not log.show(batch := await engine.events(cursor, EVENTS_BATCH)):
                break
            if batch:
                cursor = batch[-1].cursor
            else:
                await _sleep(FOLLOW_POLL)
        return 0

    return run_engine(args, body, existing=True)


TRAIL = 10_000  # operator actions read at a time: they are few beside the events


class _Log:
    """Prints batches of events with the trail rows that fall among them."""

    def __init__(self, as_json: bool, since: int, follow: bool) -> None:
        self.as_json = as_json
        self.follow = follow
        self.pending: list[Action] = []
        self.after_id = 0

    def show(self, batch: Sequence[Event]) -> bool:
        """Print a batch of events and the actions up to its end (all of them after the last
        batch); whether to read again (more may follow)."""
        from jobdeck.tui.render import action_json_line, action_line, event_json_line, event_line

        if self.pending:
            self.after_id = max(self.after_id, max(a.id for a in self.pending))
        full = len(batch) == EVENTS_BATCH
        upto = batch[-1].cursor if full else MAX_CURSOR
        due = [a for a in self.pending if a.after_cursor <= upto]
        self.pending = [a for a in self.pending if a.after_cursor > upto]
        if batch or due:  # one write a batch: a print per line costs more than the line
            rows: list[tuple[int, int, str]] = [
                (e.cursor, 0, event_json_line(e) if self.as_json else event_line(e)) for e in batch
            ]
            rows += [
                (a.after_cursor, 1, action_json_line(a) if self.as_json else action_line(a))
                for a in due
            ]
            if due:
                rows.sort(key=lambda row: row[:2])
            print("\n".join(line for _, _, line in rows), flush=self.follow)
        return bool(batch) or self.follow


def cmd_check(args: argparse.Namespace) -> int:
    import tempfile

    from jobdeck.core.checklist import run_checks

    with tempfile.TemporaryDirectory(prefix="jobdeck-check-") as tmp:
        results: list[Any] = []

        async def body(engine: Engine) -> int:
            results.extend(await run_checks(engine))
            return 0

        run_engine(args, body, db=os.path.join(tmp, "check.db"))
    ok = all(r.ok for r in results)
    if args.json:
        shaped = [{"name": r.name, "ok": r.ok, "detail": r.detail} for r in results]
        print(json.dumps({"ok": ok, "checks": shaped}))
    else:
        for r in results:
            print(f"{'✓' if r.ok else '✗'} {r.name} — {r.detail}")
    return 0 if ok else 1


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
