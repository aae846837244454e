"""The rows of the system tables (workers, kind_counts, rollup) as both backends write and read
them.

What both backends add to `kind_counts` and `rollup` in a write's own transaction: the moves
of one transaction are summed here, in Python, so each distinct key costs one upsert however
many jobs it counts (a worker's batch of 64 finished jobs of one kind is one rollup row).

A rollup row's values, as both backends bind them: bucket start, kind, outcome, reason code, n,
run time sum, then the histogram's HISTOGRAM_SIZE counts (one integer column each: adding two
rows is plain arithmetic in the upsert, with no decoding of a packed value, and a row holds
mostly zeros, which SQLite stores in no bytes at all).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import floor
from typing import Any, Final

from jobdeck.core.contract import Job, Status
from jobdeck.core.store import Change
from jobdeck.core.system import (
    BUCKET_SECONDS,
    HISTOGRAM_SIZE,
    RUN_TIME_BOUNDS,
    Outcome,
    RollupRow,
    WorkerInfo,
    WorkerState,
    bucket_of,
    ended_as,
)
from jobdeck.storage.rows import encode_json

RollupKey = tuple[float, str, str, str]  # bucket start, kind, outcome, code
Move = tuple[str, str | None, str | None]  # kind, the status it was (None: new), it becomes


# One counted move of one job, worked out before the transaction: the rollup key it adds to,
# how long its attempt ran (None: it never ran) and the histogram slot of that run time. A
# plain tuple: a worker makes one a job.
Ended = tuple[RollupKey, float | None, int]


def ended(change: Change) -> Ended | None:
    """The rollup's part of a change, or None when the rollup does not count it."""
    before, after = change.before, change.after
    run_time: float | None = None
    slot = 0
    if before.status is Status.RUNNING:
        # The claim set updated_at to the attempt's start, and nothing else moves it while the
        # job runs: the attempt ran from there to this change.
        at = after.updated_at
        run_time = at - before.updated_at
        if run_time < 0.0:
            run_time = 0.0
        # bucket_of and histogram_slot, inline: this runs once for every job a worker finishes.
        slot = bisect_left(RUN_TIME_BOUNDS, run_time)
        if after.status is Status.DONE:  # most changes: no reason to look at
            return (
                (floor(at / BUCKET_SECONDS) * BUCKET_SECONDS, after.kind, "done", ""),
                run_time,
                slot,
            )
    reason = change.reason if change.reason is not None else after.reason
    counted = ended_as(before.status, after, change.outcome, reason)
    if counted is None:
        return None
    outcome, code = counted
    return (bucket_of(after.updated_at), after.kind, outcome.value, code), run_time, slot


def created(job: Job) -> Ended | None:
    """The rollup's part of storing a new job: a denied one counts, a queued one does not."""
    if job.status is Status.QUEUED:
        return None
    counted = ended_as(None, job, None, job.reason)
    if counted is None:
        return None
    outcome, code = counted
    return (bucket_of(job.updated_at), job.kind, outcome.value, code), None, 0


_EMPTY_ROW: Final[tuple[Any, ...]] = (0, 0.0) + (0,) * HISTOGRAM_SIZE


@dataclass
class Tally:
    """The moves of one transaction: jobs per (kind, status) gained or lost, and rollup rows.

    A worker's transaction counts a few dozen jobs, nearly all of one kind, one move and one
    rollup key: `moved` and `ended_all` take them a batch at a time (the moves counted by
    Counter's C loop), and the per-status sums are worked out once, when read."""

    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    rows: dict[RollupKey, list[Any]] = field(default_factory=dict)
    moves: Counter[Move] = field(default_factory=Counter)

    def move(self, kind: str, was: str | None, becomes: str | None, n: int = 1) -> None:
        self.moves[(kind, was, becomes)] += n

    def moved(self, moves: Iterable[Move]) -> None:
        """One job for each move."""
        self.moves.update(moves)

    def end(self, counted: Ended | None) -> None:
        if counted is not None:
            self.ended_all((counted,))

    def ended_all(self, endings: Iterable[Ended | None]) -> None:
        """Add each counted move to its rollup row (None: a move the rollup does not count)."""
        rows = self.rows
        for counted in endings:
            if counted is None:
                continue
            key, run_time, slot = counted
            row = rows.get(key)
            if row is None:
                row = rows[key] = list(_EMPTY_ROW)
            row[0] += 1
            if run_time is not None:
                row[1] += run_time
                row[2 + slot] += 1

    def _settle(self) -> Counter[tuple[str, str]]:
        for (kind, was, becomes), n in self.moves.items():
            if was is not None:
                self.kinds[(kind, was)] -= n
            if becomes is not None:
                self.kinds[(kind, becomes)] += n
        self.moves.clear()
        return self.kinds

    def statuses(self) -> dict[str, int]:
        """The per-status deltas (what the `counts` table takes)."""
        deltas: Counter[str] = Counter()
        for (_, status), n in self._settle().items():
            deltas[status] += n
        return {status: n for status, n in sorted(deltas.items()) if n}

    def kind_rows(self) -> list[tuple[str, str, int]]:
        """(kind, status, delta) of each nonzero delta, in key order (PostgreSQL locks rows in
        the order it upserts them; one order for every writer never deadlocks)."""
        return [(kind, status, n) for (kind, status), n in sorted(self._settle().items()) if n]

    def rollup_rows(self) -> list[tuple[Any, ...]]:
        """One row per key, in key order (see `kind_rows`)."""
        return [(*key, *values) for key, values in sorted(self.rows.items())]


def rollup_from_row(row: Sequence[Any]) -> RollupRow:
    """A RollupRow from (width, start, kind, outcome, code, n, run_time, h0 ... h15). An
    outcome a newer jobdeck wrote and this one does not know is read as failed, never raised."""
    try:
        outcome = Outcome(row[3])
    except ValueError:
        outcome = Outcome.FAILED
    return RollupRow(
        start=float(row[1]),
        width=float(row[0]),
        kind=str(row[2]),
        outcome=outcome,
        code=str(row[4]),
        n=int(row[5]),
        histogram=tuple(int(v) for v in row[7 : 7 + HISTOGRAM_SIZE]),
        run_time=float(row[6]),
    )


def kind_counts_from(rows: Iterable[Sequence[Any]]) -> dict[str, dict[Status, int]]:
    """Jobs per kind and status from (kind, status, n) rows; every status present, 0 when none.
    A kind whose jobs are all gone (pruned) is left out."""
    found: dict[str, dict[Status, int]] = {}
    for kind, status, n in rows:
        try:
            known = Status(status)
        except ValueError:
            continue
        found.setdefault(str(kind), dict.fromkeys(Status, 0))[known] = int(n)
    return {kind: counts for kind, counts in sorted(found.items()) if any(counts.values())}


def oldest_from(rows: Iterable[Sequence[Any]]) -> dict[str, float]:
    """When each kind's longest-queued job became ready, from (kind, run_after) rows (a kind
    whose count says queued but whose jobs are gone reads NULL: left out)."""
    return {str(kind): float(at) for kind, at in rows if at is not None}


def worker_from_row(row: Sequence[Any], running: int) -> WorkerState:
    """A WorkerState from (name, host, pid, version, started_at, last_seen, lease, concurrency,
    kinds JSON, done_5m, failed_5m). A row a newer (or broken) jobdeck wrote reads with what it
    can: a value that is not what this jobdeck wrote becomes empty, never an error."""
    return WorkerState(
        name=str(row[0]),
        host=str(row[1]),
        pid=_int(row[2]),
        version=str(row[3]),
        started_at=_float(row[4]),
        last_seen=_float(row[5]),
        lease=_float(row[6]),
        concurrency=_int(row[7]),
        kinds=_names(row[8]),
        running=running,
        done_5m=_int(row[9]),
        failed_5m=_int(row[10]),
    )


def worker_values(info: WorkerInfo, now: float) -> dict[str, Any]:
    """The named values of a worker's registration."""
    return {
        "name": info.name,
        "now": now,
        "host": info.host,
        "pid": info.pid,
        "version": info.version,
        "started_at": info.started_at,
        "lease": info.lease,
        "concurrency": info.concurrency,
        "kinds": encode_json(list(info.kinds)),
    }


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _float(value: Any) -> float:
    try:
        found = float(value)
    except (TypeError, ValueError):
        return 0.0
    return found if math.isfinite(found) else 0.0


def _names(text: Any) -> tuple[str, ...]:
    try:
        found = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return ()
    if not isinstance(found, list):
        return ()
    return tuple(str(name) for name in found)
