"""The Markdown incident report of one job: contract, reason, attempts, lineage, and the command
lines that reproduce it. Written with mode 0600, since payloads can hold customer data."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from jobdeck.core import JobDetail
from jobdeck.core.engine import canonical_json
from jobdeck.tui.widgets.cells import pretty_json, span, utc


def incident_markdown(detail: JobDetail, db: str) -> str:
    """The report as Markdown text. `db` is the database path the repro commands name."""
    job = detail.job
    lines = [
        f"# Incident report: job {job.id}",
        "",
        f"- kind: `{job.kind}`",
        f"- status: **{job.status.value}**, attempt {job.attempt} of {job.max_attempts}",
        f"- retry decision: {detail.explanation}",
        f"- idempotency key: `{job.idempotency_key}`",
        f"- created: {utc(job.created_at)}; updated: {utc(job.updated_at)}",
    ]
    if job.rerun_of:
        gone = " (original pruned)" if detail.original is None else ""
        lines.append(f"- rerun of: `{job.rerun_of}`{gone}")
    lines += ["", "## Reason", ""]
    reason = job.reason
    if reason is None:
        lines.append("No failure reason: the job has not failed.")
    else:
        lines += [
            f"- code: `{reason.code}`",
            f"- category: {reason.category.value}",
            f"- gate: {reason.gate or '-'}",
            f"- retryable: {'yes' if reason.retryable else 'no'}",
            f"- message: {reason.message}",
            "",
            "Evidence:",
            "",
            "```json",
            pretty_json(reason.evidence),
            "```",
        ]
    lines += ["", "## Payload", "", "```json", pretty_json(job.payload), "```"]
    if job.result is not None:
        lines += ["", "## Result", "", "```json", pretty_json(job.result), "```"]
    lines += ["", "## Attempts", ""]
    if not detail.attempts:
        lines.append("None: the job never ran.")
    else:
        lines += ["| # | started (UTC) | took | outcome | reason |", "|---|---|---|---|---|"]
        for a in detail.attempts:
            took = span(a.finished_at - a.started_at) if a.finished_at is not None else "-"
            code = a.reason.code if a.reason else "-"
            lines.append(f"| {a.n} | {utc(a.started_at)} | {took} | {a.outcome.value} | {code} |")
    if detail.reruns:
        lines += ["", "## Reruns", ""]
        for rerun, report in detail.reruns:
            verdict = report.verdict.value if report else "pending"
            lines.append(f"- `{rerun.id}` {rerun.status.value}: {verdict}")
    db_arg = shlex.quote(db)
    lines += [
        "",
        "## Reproduce",
        "",
        "```sh",
        f"jobdeck --db {db_arg} submit {shlex.quote(job.kind)} "
        f"{shlex.quote(canonical_json(job.payload))}",
        f"jobdeck --db {db_arg} rerun {job.id}",
        f"jobdeck --db {db_arg} show {job.id}",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` readable by its owner only; returns the absolute path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    return path.resolve()
