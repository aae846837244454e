"""The commands that open the Textual monitor: `demo` (with workers and a workload) and `tui`."""

from __future__ import annotations

import argparse
import os
from contextlib import suppress

from jobdeck.tui.cli.run import registry_for


def cmd_demo(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput

    if not 1 <= args.workers <= 64:
        raise InvalidInput(f"--workers must be between 1 and 64, not {args.workers}.")
    check_tick(args.tick)
    from jobdeck.tui.app import run_monitor

    if args.fresh and "://" not in args.db:
        fresh(args.db)
    return run_monitor(
        args.db,
        allow_faults=True,
        read_only=False,
        demo=True,
        workers=args.workers,
        tick=args.tick,
        registry=registry_for(args),
    )


def check_tick(tick: float) -> None:
    from jobdeck.core.errors import InvalidInput

    if not 0.05 <= tick <= 60:
        raise InvalidInput(f"--tick must be between 0.05 and 60 seconds, not {tick:g}.")


def cmd_tui(args: argparse.Namespace) -> int:
    from jobdeck.tui.app import run_monitor

    check_tick(args.tick)

    return run_monitor(
        args.db,
        allow_faults=args.allow_faults,
        read_only=args.read_only,
        demo=False,
        tick=args.tick,
        registry=registry_for(args),
    )


def fresh(path: str) -> None:
    """Remove a demo database and its WAL files so the demo starts from nothing."""
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.remove(path + suffix)
