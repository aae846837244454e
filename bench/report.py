"""The one table the benchmarks print, and docs/BENCHMARKS.md written from it."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    """One measured figure. `higher_better` rows are rates (jobs/s); the others are times (ms) or
    sizes (MB). `huey` and `raw` are the comparison figures measured in the same run, if any."""

    name: str
    unit: str
    jobdeck: float | None
    huey: float | None = None
    raw: float | None = None
    target: str = ""
    met: bool | None = None
    higher_better: bool = True

    @property
    def vs_huey(self) -> float | None:
        return _ratio(self.jobdeck, self.huey, self.higher_better)

    @property
    def vs_raw(self) -> float | None:
        return _ratio(self.jobdeck, self.raw, self.higher_better)


def _ratio(mine: float | None, other: float | None, higher_better: bool) -> float | None:
    if not mine or not other:
        return None
    return mine / other if higher_better else other / mine


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    growth: list[tuple[int, dict[str, float | None]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores (load average at start {load}), Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "jobs/s":
        return f"{value:,.0f}"
    if unit == "×":  # a ratio of two runs: a tenth is too coarse for a 10 % target
        return f"{value:.2f}"
    return f"{value:,.1f}"


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def _met(row: Row) -> str:
    return "" if row.met is None else ("yes" if row.met else "NO")


HEADER = ("measurement", "unit", "jobdeck", "huey", "raw floor", "÷huey", "÷raw", "target", "met")


def table_cells(report: Report) -> list[tuple[str, ...]]:
    return [
        (
            r.name,
            r.unit,
            _num(r.jobdeck, r.unit),
            "" if r.huey is None else _num(r.huey, r.unit),
            "" if r.raw is None else _num(r.raw, r.unit),
            _times(r.vs_huey),
            _times(r.vs_raw),
            r.target,
            _met(r),
        )
        for r in report.rows
    ]


GROWTH_KEYS = (
    ("submit_many", "batch submit jobs/s"),
    ("claim_complete", "claim+complete jobs/s"),
    ("tick_ms", "monitor tick ms (all panes)"),
    ("groups_ms", "failure groups ms"),
    ("rss_mb", "monitor RSS MB"),
)


def growth_cells(report: Report) -> list[tuple[str, ...]]:
    rows = []
    for key, label in GROWTH_KEYS:
        if not any(key in figures for _, figures in report.growth):
            continue
        cells = [label]
        for _, figures in report.growth:
            value = figures.get(key)
            cells.append("n/a" if value is None else f"{value:,.1f}")
        rows.append(tuple(cells))
    return rows


def growth_header(report: Report) -> tuple[str, ...]:
    return ("jobs in the database", *(f"{n:,}" for n, _ in report.growth))


def plain(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))
    return "\n".join(lines)


def markdown(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)


def text(report: Report) -> str:
    out = [plain(HEADER, table_cells(report))]
    if report.growth:
        out += ["", "cost growth", plain(growth_header(report), growth_cells(report))]
    return "\n".join(out)


def write_markdown(report: Report, path: Path, *, command: str, machine_line: str) -> None:
    today = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        "# Benchmarks",
        "",
        f"Measured {today} with `{command}` on {machine_line}.",
        "",
        "Everything runs in one process tree on files in a temporary folder; every comparison",
        "figure is measured in the same run, on the same machine, so read the ratios before the",
        "absolute numbers (this machine is shared and noisy).",
        "",
        markdown(HEADER, table_cells(report)),
    ]
    if report.growth:
        parts += [
            "",
            "## Cost growth",
            "",
            "The same measurements with more jobs already in the database; flat is the goal.",
            "",
            markdown(growth_header(report), growth_cells(report)),
        ]
    parts += kept_sections(path)
    parts += ["", EXPLAINED.strip()]
    if report.notes:
        parts += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


# Sections written from runs `python -m bench` does not make (a 10-minute soak, a comparison of
# two checkouts): a new table keeps them as they are, dates and all.
KEPT = (
    "## Soak",
    "## Cost of retention's indexes",
    "## The synchronous Client",
    "## PostgreSQL beside procrastinate and PgQueuer",
)


def kept_sections(path: Path) -> list[str]:
    """The KEPT sections of the file at `path`, each from its heading to the next one, as lines
    that follow a blank line."""
    if not path.exists():
        return []
    sections: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
    lines: list[str] = []
    for section in sections:
        if section[0].strip() in KEPT:
            lines += ["", *"\n".join(section).strip().splitlines()]
    return lines


EXPLAINED = """
## What each row measures

- **end to end**: submit N no-op jobs (jobdeck: `submit_many`, 10,000 a call; huey: one
  `enqueue` a task, it has no batch call), then drain them with 2 worker processes (jobdeck:
  `jobdeck worker --burst --concurrency 32`; huey: `huey_consumer -w 2 -k process`), from the
  first submit until every job is done (jobdeck: the workers exit; huey: N results stored).
  Process start-up is inside the time for both. huey's SQLite storage runs with jobdeck's
  durability (WAL, `synchronous = NORMAL`) instead of its FULL default, so neither side pays an
  fsync per commit the other does not.
- **claim + complete**: one in-process worker drains N queued no-op jobs (claim in batches, run,
  complete in flushed groups: one lease, one CAS and one event per transition each). The raw
  floor is plain sqlite3 on jobdeck's schema: one job at a time, one transaction per transition
  (the UPDATE and its event), no attempts table and no Python objects.
- **batch submit**: `Engine.submit_many` through the gates (payload checks, schema gate,
  idempotency key, dedupe) into a fresh file, against raw `executemany` of the same number of
  rows into a four-column table (the issue's reference figure), and into jobdeck's own tables
  through jobdeck's own insert statements (a job row with a hashed key, its creation event and
  the count, every index).
- **single submit**: `await engine.submit(...)` in a loop, one transaction each, against huey's
  `task(...)` enqueue in a loop. The second row runs 64 tasks, each awaiting `engine.submit` in a
  loop, as a web app's request handlers would: submits that arrive while one is being written
  share the next transaction (group commit), and each still returns only once its job is
  committed. huey's figure beside it is the same single-caller enqueue rate (huey's enqueue from
  many threads was slower than from one on this machine). The "plain sqlite3 committing each
  job" row is the floor for one caller: the same three statements as jobdeck's insert in one
  transaction a job, with no gates, no asyncio and no Python objects.
- **Client.submit** (`python -m bench.client` runs these alone): `jobdeck.connect(path)` and
  `client.submit(...)` in a loop on one thread, against that same plain-sqlite3 floor; then
  the same number of jobs from 8 threads sharing one Client, against one thread through a
  Client of its own (the raw column of that row); beside them their floors: the plain-sqlite3
  floor with `Intake.prepare` building each job (the rules without the Client's layers), and
  plain sqlite3 from 8 threads sharing commits against one thread; then `await engine.submit`
  beside them. Each
  is the median of interleaved rounds on fresh files. **pages written by one submit's commit**
  counts the WAL frames of 200 one-job commits (checkpoints off) into a file already holding
  2,000 jobs: jobdeck's own insert transaction against the floor's three statements.
- Every raw floor opens SQLite with jobdeck's own connection settings (WAL,
  `synchronous = NORMAL`, foreign keys, the checkpoint backstop).
- **latency**: the time from a job's creation event to its claim event, idle workers, jobs
  submitted one at a time; in-process the submit wakes the worker, cross-process the worker
  polls every 50 ms.
- **scheduled** (`python -m bench.scheduled` runs these alone): claim + complete of N ready no-op
  jobs by one in-process worker, as in the claim + complete row, on a database holding only
  them and on a copy of it that also holds 1,000,000 queued jobs due a day later (stored with
  `submit_many(..., delay=)`). Each database is built once, checkpointed, and copied afresh (and
  synced to disk) before every run; the two alternate (a b, b a, ...), and the row is the median
  of the pairs' ratios, the lowest and highest pair beside it, every pair in the notes. The
  start of a job due in 200 ms: jobs submitted one at a time about 50 ms apart with
  `delay=0.2` (so about four wait at once) to an idle worker at its default settings (poll
  0.05 s), in this process, then in a `jobdeck worker` process; each figure is the moment its
  handler was entered (`time.time()`, returned as the job's result) minus its `run_after`.
- **CLI**: wall time of each read command as a user types it (the `jobdeck` console script), each
  in a new process, on a database of 1,000 demo jobs that nothing writes to meanwhile; bytecode
  cached after one untimed run, the median of 9 runs taken in turn with the others. The raw floor
  is `python -c pass` timed the same way: Python's own start-up, which no command can beat.
  `events` prints the whole log (about 3,100 lines). `python -m bench.cli` runs these alone.
- **monitor**: a process of its own opens the filled database read-only. First paint is the
  Textual app started headless (`App.run_test`), from before its import (and before the store is
  opened) to the first frame drawn whose four pane titles show the store's counts, each pane
  with its first page; "until the app is idle" goes on until every startup task has finished
  (Textual's footer rebuilds itself after the first frame). A tick is the CPU time from a
  refresh to its repaint: "every pane reloaded" is the worst case (reads and redraw of all four
  panes), "no new events" is what most ticks of an idle or slow engine cost. The reads-only tick
  is one `Feed.poll` with every pane invalidated; failure groups is the read behind the failures
  pane; RSS is the process's peak.
- **soak** (`python -m bench.soak`, run alone: it takes 10 minutes, so `python -m bench` leaves
  it out and keeps its section as it was): 500 no-op jobs a second for 10 minutes through a
  `jobdeck worker` process, finished jobs pruned once they are 60 s old (by the worker's own
  retention, or every 5 s from the bench with `--pruner bench`); each minute the file's
  size, its free pages, the rows, and claim + complete on bursts of jobs on a page-for-page copy
  of the file, in turn with the same on a copy of minute 1's; then `jobdeck vacuum`. Its
  section says how.
- **versus** (`python -m bench.versus BEFORE AFTER`): claim + complete, batch submit and end to
  end on two checkouts of jobdeck with the same bench code, interleaved in rounds, each run in
  a process of its own; the median of the rounds' ratios. The retention section used it.
- **keep-up** (`python -m bench.keepup`): the real `jobdeck tui --read-only` in a 160×48 tmux
  terminal with a 1 s tick, while this process submits about 1,000 no-op jobs a second and a
  `jobdeck worker` process runs them. The monitor's CPU is read from /proc over a 20 s window;
  twice a second its screen is captured and the finished count it shows is compared with the
  counts the store held (sampled every 0.1 s): the row is how far behind the oldest count shown
  was. After the load stops and the queue drains, the four counts shown must equal
  `jobdeck status`.

## What limits the figures

- Every job is a row in a table with six indexes (id, status+id, the ready queue, leases, the
  idempotency key, failure codes) plus an event row. The "executemany on jobdeck's schema" row
  is that floor with no Python at all; batch submit is a fraction of it, not of the four-column
  table.
- A single submit is one write transaction whose commit appends every page the row touched to
  the WAL (the table, four index leaves, the event, the counts), one write call a page. The
  "plain sqlite3 committing each job" row is that cost with no engine at all, and it is below
  three times huey's enqueue on this machine: no engine on this schema and durability can meet
  that target for one caller. jobdeck adds the payload checks, contract model and gates (about
  25 µs), the hop to aiosqlite's thread and back (about 70 µs) and the asyncio bookkeeping.
  One caller awaiting one submit at a time cannot share a commit; concurrent callers do (group
  commit), and `submit_many` shares one commit across a whole batch.
- Checkpoints: SQLite's automatic checkpoint would copy the WAL back into the database inside
  the commit that crosses 1,000 pages; jobdeck runs it on a thread of its own instead
  (`storage/sqlite/checkpoint.py`), so no submit or transition waits for it. The raw floors
  use the same connection settings.
- Batch submit: about 20 to 35 µs of Python a job (payload checks, the contract model, the
  gates, the id and the key hash), then about 25 µs in the transaction (building each row, and
  SQLite's own work, which the "executemany on jobdeck's schema" row measures), one after the
  other: validation finishes before the transaction starts, so a bad payload stores nothing.
- Transitions: each job's claim and completion change the status column, so SQLite rewrites the
  entries of every index whose definition mentions status. Since schema 3 the dedupe index no
  longer mentions status (a failed job clears its key instead), so its random pages are left
  alone; the worker records finished attempts and claims its next jobs in one transaction.
  Inside it, a claim costs about 30 µs a job in SQLite (the UPDATE, the attempt, the event) and
  a completion about 35 µs, plus the commit.
- End to end: the two worker processes take turns at SQLite's one write lock, and together hold
  it for most of the drain, while each spends as long again in Python (building the contract
  models, running the handler task, computing the transition). On these two cores a third
  worker process drained no faster than two, and a fourth was slower.
- Growth: the idempotency key of a submit without one is a hash, so each new job lands on a
  random leaf of the dedupe index; past a few hundred thousand jobs nearly every job dirties a
  page of its own that the commit writes out. Reads stay flat (keyset pages, the counts table,
  events by cursor) except the failure groups, a GROUP BY over every failed job.
- Cross-process latency is bounded below by the worker's 50 ms poll: a submit in another process
  cannot wake it.
- Jobs due later: such a job is a queued row whose `run_after` lies ahead, so in the ready index
  (`run_after, id`) it sits behind every ready job, and a claim, which walks that index from its
  start and stops at the first job not yet due, never reads it. The million rows only make the
  indexes that hold queued jobs larger.
- A job's start against its time: an idle worker sleeps until the earliest queued job comes due
  when that is within its poll, so most jobs start 1 to 2 ms late (waking, the claim
  transaction, the task start). A job that comes due in the millisecond or so between a claim
  that just missed it and the worker's next wait is found already due by that wait, which then
  sleeps a whole poll: the wait is shortened only for a job due after the moment it reads the
  clock. That is 1 job in 50 to 200, so the p99 of a few hundred samples lands either side of
  50 ms.
- CLI: the read commands on a SQLite file read it with plain sqlite3 and never import pydantic,
  the contract models or asyncio (those cost several times Python's start-up); what is left is
  Python's start-up, argparse and the standard modules the command needs. Commands that write,
  and every command on PostgreSQL, go through the engine and pay for its imports. `events`
  prints the whole log, so its time grows with the log: about 15 µs a line (a JSON encode and
  a timestamp each) on top of the start-up; `--since CURSOR` prints only what is new.
"""
