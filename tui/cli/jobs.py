"""The commands about single jobs: submit, list, show, rerun and fail (arm a fault)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jobdeck.tui.cli.inputs import priority, read_lines, read_payload, when
from jobdeck.tui.cli.run import open_peek, run_engine

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine
    from jobdeck.tui.render import Detail, Job

JSON_LINES_BATCH = 5000


def cmd_submit(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput, JobdeckError
    from jobdeck.tui.render import dumps, iso, job_line, reason_json

    if args.source is not None:
        if args.payload is not None or args.key or args.wait:
            raise InvalidInput(
                "--from takes payloads from the file alone; drop PAYLOAD, --key and --wait."
            )
        payloads = read_lines(args.source)
    else:
        payloads = [read_payload(args.payload)]
    run_at, delay = when(args)  # checked before the database opens: a bad time stores nothing
    level = priority(args.priority)

    async def body(engine: Engine) -> int:
        if args.source is not None:
            engine.registry.get(args.kind)
            stored = 0
            for i in range(0, len(payloads), JSON_LINES_BATCH):
                jobs = await engine.submit_many(
                    args.kind,
                    payloads[i : i + JSON_LINES_BATCH],
                    max_attempts=args.max_attempts,
                    run_at=run_at,
                    delay=delay,
                    priority=level,
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
            args.kind,
            payloads[0],
            key=args.key,
            max_attempts=args.max_attempts,
            run_at=run_at,
            delay=delay,
            priority=level,
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
        return {
            "id": job.id,
            "status": job.status.value,
            "reason": reason_json(job.reason),
            "run_after": iso(job.run_after),
            "priority": job.priority,
        }

    return run_engine(args, body)


def cmd_list(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.storage.sqlite.peek import STATUSES
    from jobdeck.tui.render import dumps, iso, job_json, job_line

    if not 1 <= args.limit <= 10_000:
        raise InvalidInput(f"--limit must be between 1 and 10000, not {args.limit}.")
    if args.scheduled and args.status not in (None, "queued"):
        raise InvalidInput("--scheduled lists queued jobs; drop --status or make it queued.")
    statuses = [args.status] if args.status else STATUSES

    def show(pages: list[Sequence[Job]]) -> int:
        """Print the newest --limit jobs of the pages (one per status), or with --scheduled the
        one page of jobs not yet due, soonest first, as it came."""
        if args.scheduled:
            jobs = [j for page in pages for j in page if args.kind in (None, j.kind)]
        else:
            jobs = sorted((j for page in pages for j in page), key=lambda j: j.id, reverse=True)
        jobs = jobs[: args.limit]
        if args.json:
            print(dumps([job_json(j) for j in jobs]))
        else:
            for j in jobs:
                print(job_line(j) + (f"  runs at {iso(j.run_after)}" if args.scheduled else ""))
        return 0

    # --kind filters the scheduled page after the read, so read a wider one then.
    wanted = args.limit if args.kind is None else 10_000
    peek = open_peek(args)
    if peek is not None:
        with peek:
            if args.scheduled:
                return show([peek.scheduled(time.time(), wanted)])
            return show([peek.page(s, limit=args.limit, kind=args.kind) for s in statuses])

    async def body(engine: Engine) -> int:
        from jobdeck.core.contract import Status

        if args.scheduled:
            return show([await engine.scheduled(limit=wanted)])
        pages = [await engine.page(Status(s), limit=args.limit, kind=args.kind) for s in statuses]
        return show([page.jobs for page in pages])

    return run_engine(args, body, existing=True)


def cmd_show(args: argparse.Namespace) -> int:
    from jobdeck.tui.render import detail_json, detail_text, dumps

    def show(detail: Detail) -> int:
        print(dumps(detail_json(detail)) if args.json else detail_text(detail))
        return 0

    peek = open_peek(args)
    if peek is not None:
        with peek:
            return show(peek.detail(args.id, time.time()))

    async def body(engine: Engine) -> int:
        return show(await engine.detail(args.id))

    return run_engine(args, body, existing=True)


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

    return run_engine(args, body)


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

    return run_engine(args, body)
