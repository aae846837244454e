"""`jobdeck prune`: delete finished jobs past an age with their attempts, steps and events,
optionally archiving each to a JSON Lines file first (see `archive`). Workers do the same on
their own (`worker --retention`, jobdeck.core.retention); this is the operator's hand on it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from jobdeck.tui.cli.inputs import ages
from jobdeck.tui.cli.run import run_engine

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine
    from jobdeck.core.store import Pruned, Record


def cmd_prune(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.core.retention import BATCH

    done, failed = ages(args)  # checked before the database opens: a bad age deletes nothing
    if args.dry_run and args.archive is not None:
        raise InvalidInput("--dry-run deletes nothing, so it archives nothing; drop --archive.")

    async def body(engine: Engine) -> int:
        async def prune(archive: Callable[[Sequence[Record]], Sequence[str]] | None) -> Pruned:
            return await engine.prune(
                done_older_than=done,
                failed_older_than=failed,
                kind=args.kind,
                dry_run=args.dry_run,
                batch=BATCH,
                archive=archive,
            )

        if args.archive is None:
            pruned = await prune(None)
        else:
            from jobdeck.tui.cli.archive import Archive

            # Opened before anything is deleted: a path that cannot be written deletes nothing.
            with Archive.open(args.archive, database=database_files(args.db)) as file:
                pruned = await prune(file.write)
        if not args.dry_run:  # on the operator trail: who pruned what (a worker's own is not)
            from jobdeck.core.control import ActionName

            ages_ = [
                f"{s}>{a:g}s" for s, a in (("done", done), ("failed", failed)) if a is not None
            ]
            scope = f" of kind {args.kind}" if args.kind else ""
            target = f"{pruned.jobs} jobs{scope} ({', '.join(ages_)})"
            await engine.record_action(ActionName.PRUNE, target)
        show(args, pruned)
        return 0

    return run_engine(args, body, existing=True)


def database_files(db: str) -> list[str]:
    """The SQLite file `db` names and its side files (an archive must be none of them); none
    for PostgreSQL."""
    from jobdeck.storage import is_postgres_url

    if is_postgres_url(db):
        return []
    path = db.removeprefix("sqlite:///")
    return [path, *(path + suffix for suffix in ("-wal", "-shm", "-journal"))]


def show(args: argparse.Namespace, pruned: Pruned) -> None:
    if args.json:
        shaped = {
            "dry_run": args.dry_run,
            "jobs": pruned.jobs,
            "attempts": pruned.attempts,
            "steps": pruned.steps,
            "events": pruned.events,
            "archive": args.archive,
        }
        print(json.dumps(shaped))
        return
    counts = ", ".join(
        _many(n, name) for n, name in ((pruned.attempts, "attempt"), (pruned.steps, "step"))
    )
    line = f"{_many(pruned.jobs, 'job')} ({counts}, {_many(pruned.events, 'event')})"
    where = f", archived to {args.archive}" if args.archive is not None else ""
    print(f"{'would prune' if args.dry_run else 'pruned'} {line}{where}")


def _many(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
