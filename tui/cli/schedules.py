"""`jobdeck schedules`: every periodic schedule with its next and last run, and `pause` /
`resume NAME` to stop and restart one for every worker."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from jobdeck.tui.cli.run import run_engine

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine, ScheduleView
    from jobdeck.core.store import ScheduleState


def cmd_schedules(args: argparse.Namespace) -> int:
    async def body(engine: Engine) -> int:
        if args.schedule_action == "pause":
            state = await engine.pause_schedule(args.name, reason=args.reason, by=args.by)
            return _changed(args, state, "paused")
        if args.schedule_action == "resume":
            state = await engine.resume_schedule(args.name, by=args.by)
            return _changed(args, state, "resumed")
        views = await engine.schedules()
        if args.json:
            from jobdeck.tui.render import dumps

            print(dumps([schedule_json(v) for v in views]))
        elif not views:
            print("no schedules: declare one with registry.every(...) or kind(schedule=...).")
        else:
            for line in schedule_lines(views, time.time()):
                print(line)
        return 0

    return run_engine(args, body, existing=True)


def _changed(args: argparse.Namespace, state: ScheduleState, verb: str) -> int:
    from jobdeck.tui.render import dumps

    if args.json:
        print(dumps(state_json(state)))
    else:
        why = f" ({state.paused_reason})" if state.paused_reason else ""
        print(f"schedule {state.name} {verb}{why}.")
    return 0


def state_json(state: ScheduleState) -> dict[str, Any]:
    from jobdeck.tui.render import iso, reason_json

    job = state.last_job
    return {
        "name": state.name,
        "kind": state.kind,
        "cron": state.cron,
        "tz": state.tz,
        "paused": state.paused,
        "paused_reason": state.paused_reason,
        "last_tick": iso(state.last_tick) if job is not None else None,
        "last_job": None
        if job is None
        else {"id": job.id, "status": job.status.value, "reason": reason_json(job.reason)},
    }


def schedule_json(view: ScheduleView) -> dict[str, Any]:
    """One schedule in `schedules --json`: the declaration, the stored state, the next run."""
    from jobdeck.tui.render import iso

    entry, state = view.entry, view.state
    shaped: dict[str, Any] = {
        "name": view.name,
        "kind": entry.kind if entry else state.kind if state else None,
        "cron": entry.cron if entry else state.cron if state else None,
        "tz": entry.tz if entry else state.tz if state else None,
        "paused": False,
        "paused_reason": None,
        "last_tick": None,
        "last_job": None,
    }
    if state is not None:
        shaped |= state_json(state)
    shaped["next_run"] = iso(view.next_tick)
    shaped["declared"] = state is not None
    return shaped


def schedule_lines(views: list[ScheduleView], now: float) -> list[str]:
    """The human table of `schedules`."""
    from jobdeck.tui.render import iso

    rows = [("NAME", "CRON", "TZ", "NEXT RUN", "LAST RUN", "LAST JOB")]
    for view in views:
        shaped = schedule_json(view)
        if shaped["paused"]:
            why = f": {shaped['paused_reason']}" if shaped["paused_reason"] else ""
            upcoming = f"paused{why}"
        elif view.next_tick is not None:
            upcoming = f"{iso(view.next_tick)} (in {span(view.next_tick - now)})"
        else:
            upcoming = "-"
        job = shaped["last_job"]
        outcome = "-"
        if job is not None:
            code = f" {job['reason']['code']}" if job["reason"] else ""
            outcome = f"{job['id']} {job['status']}{code}"
        elif not shaped["declared"]:
            outcome = "no worker has run it yet"
        rows.append(
            (
                view.name,
                str(shaped["cron"]),
                str(shaped["tz"]),
                upcoming,
                shaped["last_tick"] or "-",
                outcome,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True))
        + "  "
        + row[5]
        for row in rows
    ]


def span(seconds: float) -> str:
    """A countdown such as `4m10s`, `2h05m` or `3d04h`."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
