"""The `jobdeck` command. Plain commands never import Textual; `demo` and `tui` do, when run.
The read commands on a SQLite file (status, list, show, events) do not even import the engine:
they read with `jobdeck.storage.sqlite.peek` and print through the same `render` functions.

`parser` declares every subcommand, `inputs` reads what the user gives, `run` opens the engine,
and one module per group of commands turns arguments into one Engine call and renders the answer.
Every error is one line on stderr and a non-zero exit (2 bad input, 3 not found, 4 transition,
5 storage); `--debug` shows the traceback too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress

from jobdeck.tui.cli.inputs import check_text
from jobdeck.tui.cli.parser import build_parser, printable

__all__ = ["COMMANDS", "build_parser", "command", "main"]

# Each command by the module that holds it, imported when run: `jobdeck status` loads the one
# module it needs, not the dozen beside it.
COMMANDS: dict[str, str] = {
    "submit": "jobs",
    "list": "jobs",
    "show": "jobs",
    "rerun": "jobs",
    "fail": "jobs",
    "cancel": "control",
    "pause": "control",
    "resume": "control",
    "paused": "control",
    "schedules": "schedules",
    "worker": "system",
    "status": "system",
    "events": "system",
    "workers": "system",
    "stats": "system",
    "backup": "maintenance",
    "vacuum": "maintenance",
    "prune": "retention",
    "check": "system",
    "limits": "limits",
    "metrics": "metrics",
    "demo": "monitor",
    "tui": "monitor",
}


def command(name: str) -> Callable[[argparse.Namespace], int]:
    """The function behind a subcommand (`cmd_<name>` in its module)."""
    module = importlib.import_module(f"jobdeck.tui.cli.{COMMANDS[name]}")
    found: Callable[[argparse.Namespace], int] = getattr(module, f"cmd_{name}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.db is None and args.command == "demo":
        args.db, args.fresh = "jobdeck-demo.db", True
    args.db = args.db or default_db()
    if args.debug or args.command in LONG_RUNNING:
        configure_logging(args.debug)
    from jobdeck.core.errors import JobdeckError

    try:
        check_text(args)
        return command(args.command)(args)
    except JobdeckError as err:
        return fail(args, str(err), err.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        with suppress(OSError):
            sys.stdout.close()
        return 0


# Commands that run for a while and log what happens; the quick ones leave logging alone (a
# warning still reaches stderr through Python's last-resort handler).
LONG_RUNNING = frozenset({"worker", "demo", "tui", "check", "metrics"})


def configure_logging(debug: bool) -> None:
    import logging

    logging.basicConfig(
        level=logging.INFO if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # An outage's end is worth a line even without --debug; its traceback only with it.
    logging.getLogger("jobdeck.outage").setLevel(logging.DEBUG if debug else logging.INFO)


def default_db() -> str:
    return os.environ.get("JOBDECK_DB") or "jobdeck.db"


def fail(args: argparse.Namespace, message: str, code: int) -> int:
    if args.debug:
        import traceback

        traceback.print_exc()
    message = printable(message.rstrip())
    print(f"jobdeck: {message[0].lower() + message[1:] if message else 'error'}", file=sys.stderr)
    return code
