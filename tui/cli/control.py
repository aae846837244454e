"""`jobdeck cancel`, `pause`, `resume` and `paused`: the operator's controls. Each turns its
arguments into one Engine call and prints the answer; the rules live in jobdeck.core.control."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from jobdeck.tui.cli.run import run_engine

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine
    from jobdeck.core.store import PausedKind


def cmd_cancel(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput

    if (args.id is None) == (args.cancel_kind is None):
        raise InvalidInput("name either a job id or --kind KIND to cancel, not both or neither.")
    if args.cancel_status and args.cancel_kind is None:
        raise InvalidInput("--status goes with --kind; a job id names one job.")

    async def body(engine: Engine) -> int:
        from jobdeck.tui.render import dumps, reason_json

        if args.cancel_kind is not None:
            statuses = args.cancel_status or ["queued"]
            n = await engine.cancel_kind(
                args.cancel_kind, statuses=statuses, reason=args.reason, by=args.by
            )
            if args.json:
                print(dumps({"kind": args.cancel_kind, "statuses": statuses, "cancelled": n}))
            else:
                what = " or ".join(statuses)
                print(
                    f"cancelled {n} {what} job{'' if n == 1 else 's'} of kind {args.cancel_kind}."
                )
            return 0
        job = await engine.cancel(args.id, reason=args.reason, by=args.by)
        requested = not job.status.finished
        if args.json:
            shaped: dict[str, Any] = {
                "id": job.id,
                "status": job.status.value,
                "cancel": "requested" if requested else "cancelled",
                "reason": reason_json(job.reason),
            }
            print(dumps(shaped))
        elif requested:
            print(f"job {job.id} is running: its worker stops it and records it cancelled.")
        else:
            print(f"job {job.id} cancelled; it never ran.")
        return 0

    return run_engine(args, body, existing=True)


def cmd_pause(args: argparse.Namespace) -> int:
    async def body(engine: Engine) -> int:
        paused = await engine.pause(args.kind, reason=args.reason, by=args.by)
        if args.json:
            from jobdeck.tui.render import dumps

            print(dumps(paused_json(paused)))
        else:
            why = f" ({paused.reason})" if paused.reason else ""
            print(f"kind {paused.kind} paused{why}: no worker claims it until it is resumed.")
        return 0

    return run_engine(args, body, existing=True)


def cmd_resume(args: argparse.Namespace) -> int:
    async def body(engine: Engine) -> int:
        changed = await engine.resume(args.kind, by=args.by)
        if args.json:
            from jobdeck.tui.render import dumps

            print(dumps({"kind": args.kind, "paused": False, "was_paused": changed}))
        elif changed:
            print(f"kind {args.kind} resumed.")
        else:
            print(f"kind {args.kind} was not paused.")
        return 0

    return run_engine(args, body, existing=True)


def cmd_paused(args: argparse.Namespace) -> int:
    async def body(engine: Engine) -> int:
        from jobdeck.tui.render import dumps, iso

        paused = await engine.paused()
        if args.json:
            print(dumps([paused_json(p) for p in paused]))
        elif not paused:
            print("no kind is paused.")
        else:
            for p in paused:
                why = f"  {p.reason}" if p.reason else ""
                print(f"{p.kind}  since {iso(p.at)}  by {p.actor}{why}")
        return 0

    return run_engine(args, body, existing=True)


def paused_json(p: PausedKind) -> dict[str, Any]:
    from jobdeck.tui.render import iso

    return {"kind": p.kind, "paused": True, "reason": p.reason, "by": p.actor, "at": iso(p.at)}
