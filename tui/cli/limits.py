"""`jobdeck limits`: each kind's concurrency and rate limit as the database holds them, with
what is in use now."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from jobdeck.tui.cli.run import run_engine

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine


def cmd_limits(args: argparse.Namespace) -> int:
    from jobdeck.tui.render import dumps, limit_json, limits_text

    async def body(engine: Engine) -> int:
        states = await engine.limits()
        if args.json:
            print(dumps([limit_json(s) for s in states]))
        else:
            print(limits_text(states, engine.clock()))
        return 0

    return run_engine(args, body, existing=True)
