"""The system around the jobs: who works, on what, how fast. Pure values and arithmetic; the rows
come from the store (`Store.workers`, `Store.rollup`, `Store.kind_counts`, `Store.oldest_queued`).

The numbers over time come from a rollup that the writers keep in the same transaction as each
transition: per kind, per outcome and reason code, per 10-second bucket, how many jobs ended that
way and a histogram of their run times. Nothing here scans attempts.

Buckets older than `FINE_FOR` are folded into minute buckets, minute buckets older than
`MINUTES_FOR` into hour buckets, hour buckets older than `KEEP_FOR` into the one `ALL_TIME` bucket
per key: a window of up to 5 minutes is exact to 10 seconds, up to an hour to the minute, up to a
day to the hour. So the default 15-minute window reads 40 to 50 buckets a key, not 90, and a
day's about 110 (30 fine, 55 minutes, 23 hours), not 1,500. Detail is dropped after a day
but totals never shrink (Prometheus counters read them).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from jobdeck.core.contract import Category, Job, Reason, Status
from jobdeck.core.contract import Outcome as AttemptOutcome
from jobdeck.core.errors import InvalidInput

BUCKET_SECONDS = 10.0
FINE_FOR = 5 * 60.0  # 10-second buckets are kept this long, then folded into minutes
# The window `stats` and the Kinds view read by default, and the kind detail's throughput history
# (10-second detail for its last FINE_FOR, a minute's average before that).
STATS_WINDOW = 15 * 60.0
MINUTE = 60.0
MINUTES_FOR = 3600.0  # minute buckets are kept this long, then folded into hours
HOUR = 3600.0
KEEP_FOR = 24 * 3600.0  # hour buckets are kept this long, then folded into ALL_TIME
ALL_TIME = 0.0  # the bucket start (and width) of the row that holds everything older than KEEP_FOR
# A fine bucket is BUCKET_SECONDS wide, a folded one MINUTE or HOUR; the ALL_TIME row is 0 wide,
# so it ends before any `since` a reader passes except one <= 0.
WIDTHS = (BUCKET_SECONDS, MINUTE, HOUR)
WORKER_FORGET_AFTER = 3600.0  # a worker row silent this long is dropped
RECENT = 300.0  # what a worker's done_5m/failed_5m count

# Upper bounds (seconds) of the run-time histogram's buckets; one more bucket holds the rest.
RUN_TIME_BOUNDS: tuple[float, ...] = (
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)
HISTOGRAM_SIZE = len(RUN_TIME_BOUNDS) + 1


class Outcome(StrEnum):
    """How a job left a state, as the rollup counts it."""

    DONE = "done"  # running -> done
    FAILED = "failed"  # running -> failed, or lease recovery out of attempts
    RETRIED = "retried"  # running -> queued again, with the failure's code
    DENIED = "denied"  # stored failed at submit by a gate: never ran
    CANCELLED = "cancelled"  # an operator's cancel, queued or running


def ended_as(
    before: Status | None,
    after: Job,
    attempt: AttemptOutcome | None,
    reason: Reason | None,
) -> tuple[Outcome, str] | None:
    """How the rollup counts a job moving from `before` (None: it is new) to `after`, with the
    reason code it counts under; None for a move it does not count (a claim, a new queued job, a
    worker handing an attempt back at shutdown)."""
    code = "" if reason is None else reason.code
    if before is None:
        return (Outcome.DENIED, code) if after.status is Status.FAILED else None
    if before is Status.QUEUED:
        return (Outcome.CANCELLED, code) if after.status is Status.FAILED else None
    if before is not Status.RUNNING:
        return None
    if after.status is Status.DONE:
        return Outcome.DONE, ""
    if after.status is Status.FAILED:
        cancelled = reason is not None and reason.category is Category.CANCELLED
        return (Outcome.CANCELLED if cancelled else Outcome.FAILED), code
    if after.status is Status.QUEUED and attempt is not AttemptOutcome.RELEASED:
        return Outcome.RETRIED, code
    return None


def bucket_of(at: float) -> float:
    """The start of the 10-second bucket that `at` falls in."""
    return math.floor(at / BUCKET_SECONDS) * BUCKET_SECONDS


class FoldCutoffs(NamedTuple):
    """When folding at some moment: 10-second buckets that start before `fine` go into their
    minute, minute buckets that start before `minutes` into their hour, and hour buckets that
    start before `hours` into the ALL_TIME row. Each is a whole multiple of the coarser width,
    so a minute (an hour) is never half in one level and half in the next."""

    fine: float
    minutes: float
    hours: float


def fold_cutoffs(now: float) -> FoldCutoffs:
    """The cutoffs of a fold at `now` (see `FoldCutoffs`): every bucket that ends after
    `now - FINE_FOR` is still 10 seconds wide, after `now - MINUTES_FOR` at most a minute, and
    after `now - KEEP_FOR` at most an hour."""
    return FoldCutoffs(
        fine=math.floor((now - FINE_FOR) / MINUTE) * MINUTE,
        minutes=math.floor((now - MINUTES_FOR) / HOUR) * HOUR,
        hours=math.floor((now - KEEP_FOR) / HOUR) * HOUR,
    )


def histogram_slot(run_time: float) -> int:
    """Which histogram bucket a run time lands in (the last one holds everything past 300 s)."""
    return bisect_left(RUN_TIME_BOUNDS, run_time)  # the first bound >= run_time


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One key of one bucket: `n` jobs of `kind` ended as `outcome` with reason `code` ('' for
    done) between `start` and `start + width`; `histogram[i]` of them ran at most
    `RUN_TIME_BOUNDS[i]` seconds (but more than the bound before), and `run_time` is their sum."""

    start: float
    width: float
    kind: str
    outcome: Outcome
    code: str
    n: int
    histogram: tuple[int, ...]
    run_time: float


@dataclass(frozen=True, slots=True)
class WorkerState:
    """One registered worker as the database last heard of it. `running` is the jobs it holds a
    lease on now; `done_5m`/`failed_5m` are what it reported finishing in its last 5 minutes.
    Text fields are as stored: a newer jobdeck may have written them, so show them escaped."""

    name: str
    host: str
    pid: int
    version: str
    started_at: float
    last_seen: float
    lease: float
    concurrency: int
    kinds: tuple[str, ...]
    running: int
    done_5m: int
    failed_5m: int

    def gone(self, now: float) -> bool:
        """Silent for two lease lengths: shown as gone (dropped from the table after an hour)."""
        return now - self.last_seen > 2 * self.lease

    def uptime(self, now: float) -> float:
        return max(0.0, now - self.started_at)


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a worker registers when it starts (`Store.register_worker`)."""

    name: str
    host: str
    pid: int
    version: str
    started_at: float
    lease: float
    concurrency: int
    kinds: tuple[str, ...]


class RecentCounts:
    """Jobs a worker finished and failed in the last `RECENT` seconds, counted in memory in a
    ring of 10-second slots, so its heartbeat reports them without a write per job."""

    def __init__(self, span: float = RECENT) -> None:
        self._slots = int(span / BUCKET_SECONDS)
        self._ring: dict[int, list[int]] = {}

    def add(self, at: float, *, failed: bool) -> None:
        slot = int(at // BUCKET_SECONDS)
        counts = self._ring.setdefault(slot, [0, 0])
        counts[1 if failed else 0] += 1
        if len(self._ring) > self._slots + 1:
            self._forget(slot)

    def totals(self, now: float) -> tuple[int, int]:
        """(done, failed) in the slots that overlap the last `span` seconds before `now`."""
        newest = int(now // BUCKET_SECONDS)
        self._forget(newest)
        done = sum(c[0] for s, c in self._ring.items() if s <= newest)
        failed = sum(c[1] for s, c in self._ring.items() if s <= newest)
        return done, failed

    def _forget(self, newest: int) -> None:
        for slot in [s for s in self._ring if s <= newest - self._slots]:
            del self._ring[slot]


@dataclass(frozen=True, slots=True)
class KindStats:
    """What `jobdeck stats` and the Kinds view show for one kind over a window."""

    kind: str
    counts: Mapping[Status, int]
    done_per_min: Mapping[int, float]  # window in minutes (1, 5, 15) -> jobs a minute
    failed_per_min: Mapping[int, float]
    failure_rate: float | None  # failed / (done + failed) over the window; None if neither
    p50: float | None
    p95: float | None
    p99: float | None
    # Seconds the longest-waiting ready queued job has waited since its run_after; None when no
    # queued job is ready (none queued, or all scheduled for later).
    oldest_queued_wait: float | None
    histogram: tuple[int, ...] = field(default=(0,) * HISTOGRAM_SIZE)


RATE_WINDOWS = (1, 5, 15)


def percentile(histogram: Sequence[int], q: float) -> float | None:
    """The `q` quantile (0..1) of run times, read from a histogram by linear interpolation inside
    the bucket it falls in (as Prometheus' histogram_quantile does); None for an empty one. The
    open last bucket answers its lower bound."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(histogram):
        if n and seen + n >= rank:
            low = 0.0 if i == 0 else RUN_TIME_BOUNDS[i - 1]
            if i == len(RUN_TIME_BOUNDS):
                return low
            high = RUN_TIME_BOUNDS[i]
            return low + (high - low) * (rank - seen) / n
        seen += n
    return RUN_TIME_BOUNDS[-1]


def add_histograms(histograms: Iterable[Sequence[int]]) -> tuple[int, ...]:
    total = [0] * HISTOGRAM_SIZE
    for histogram in histograms:
        for i, n in enumerate(histogram):
            total[i] += n
    return tuple(total)


def stats_edges(now: float, window: float) -> list[float]:
    """The span edges `kind_stats` reads the rollup summed over (`Store.rollup_sums`): the rate
    windows and the last `window` seconds, a handful of rows per kind however long the window.
    Raises InvalidInput for a window that is not above 0 and at most a day (the rollup keeps no
    detail past that)."""
    if not 0 < window <= KEEP_FOR:
        raise InvalidInput(
            f"a stats window is more than 0 and at most 24h (the rollup keeps no detail "
            f"older than a day), not {window:g} s."
        )
    edges = {now - window, now + BUCKET_SECONDS}
    edges.update(now - minutes * MINUTE for minutes in RATE_WINDOWS)
    return sorted(edges)


def kind_stats(
    rows: Iterable[RollupRow],
    counts: Mapping[str, Mapping[Status, int]],
    oldest_queued: Mapping[str, float],
    *,
    now: float,
    since: float,
    kind: str | None = None,
) -> list[KindStats]:
    """Per kind, sorted by name: counts, rates over the last 1, 5 and 15 minutes, the failure
    rate and run-time percentiles over `since`..`now`, and the oldest queued job's wait; only
    `kind`'s when given."""
    if kind is not None:
        counts = {k: v for k, v in counts.items() if k == kind}
        oldest_queued = {k: v for k, v in oldest_queued.items() if k == kind}
    finished = (Outcome.DONE, Outcome.FAILED, Outcome.CANCELLED)
    done: dict[str, dict[int, int]] = {}
    failed: dict[str, dict[int, int]] = {}
    window_done: dict[str, int] = {}
    window_failed: dict[str, int] = {}
    histograms: dict[str, list[Sequence[int]]] = {}
    for row in rows:
        end = row.start + row.width
        if row.outcome in finished and end > since:
            histograms.setdefault(row.kind, []).append(row.histogram)
        for minutes in RATE_WINDOWS:
            if end <= now - minutes * 60:
                continue
            if row.outcome is Outcome.DONE:
                per = done.setdefault(row.kind, {})
                per[minutes] = per.get(minutes, 0) + row.n
            elif row.outcome in (Outcome.FAILED, Outcome.DENIED, Outcome.CANCELLED):
                per = failed.setdefault(row.kind, {})
                per[minutes] = per.get(minutes, 0) + row.n
        if end > since:
            if row.outcome is Outcome.DONE:
                window_done[row.kind] = window_done.get(row.kind, 0) + row.n
            elif row.outcome in (Outcome.FAILED, Outcome.DENIED, Outcome.CANCELLED):
                window_failed[row.kind] = window_failed.get(row.kind, 0) + row.n
    kinds = sorted(set(counts) | set(done) | set(failed) | set(oldest_queued))
    stats: list[KindStats] = []
    for kind in kinds:
        histogram = add_histograms(histograms.get(kind, ()))
        ok, bad = window_done.get(kind, 0), window_failed.get(kind, 0)
        oldest = oldest_queued.get(kind)
        stats.append(
            KindStats(
                kind=kind,
                counts={status: counts.get(kind, {}).get(status, 0) for status in Status},
                done_per_min={m: done.get(kind, {}).get(m, 0) / m for m in RATE_WINDOWS},
                failed_per_min={m: failed.get(kind, {}).get(m, 0) / m for m in RATE_WINDOWS},
                failure_rate=bad / (ok + bad) if ok + bad else None,
                p50=percentile(histogram, 0.50),
                p95=percentile(histogram, 0.95),
                p99=percentile(histogram, 0.99),
                oldest_queued_wait=_waited(oldest, now),
                histogram=histogram,
            )
        )
    return stats


def _waited(ready_at: float | None, now: float) -> float | None:
    """How long the oldest queued job has waited: from when it became ready (its run_after), so
    a kind whose queued jobs are all scheduled for later has nobody waiting (None), not 0 s."""
    if ready_at is None or ready_at > now:
        return None
    return now - ready_at


def throughput_edges(now: float, span: float) -> list[float]:
    """The span edges `throughput` reads the rollup summed over for the last `span` seconds: one
    span per 10-second bucket the rollup still keeps that wide, one per minute before that (a
    minute bucket ends on a minute's edge)."""
    first = bucket_of(now) - span + BUCKET_SECONDS
    last = bucket_of(now) + BUCKET_SECONDS
    fine = max(first, fold_cutoffs(now).fine)
    edges: list[float] = []
    if fine > first:
        minute = math.floor(first / MINUTE) * MINUTE
        edges = [minute + i * MINUTE for i in range(round((fine - minute) / MINUTE))]
    steps = round((last - fine) / BUCKET_SECONDS)
    return edges + [fine + i * BUCKET_SECONDS for i in range(steps + 1)]


def throughput(
    rows: Iterable[RollupRow], *, now: float, span: float = 300.0, kind: str | None = None
) -> tuple[list[float], list[float]]:
    """Done and failed per second in each 10-second bucket of the last `span` seconds, oldest
    first (the current, partial bucket last), for one kind or all. A row wider than 10 seconds
    (a minute, or a span the store summed) is spread evenly over the buckets it covers: older
    than `FINE_FOR`, the rollup knows a minute's average, not its 10-second shape."""
    first = bucket_of(now) - span + BUCKET_SECONDS
    slots = int(span / BUCKET_SECONDS)
    done = [0.0] * slots
    failed = [0.0] * slots
    for row in rows:
        if (kind is not None and row.kind != kind) or row.width <= 0:
            continue
        if row.outcome is Outcome.DONE:
            into = done
        elif row.outcome in (Outcome.FAILED, Outcome.DENIED, Outcome.CANCELLED):
            into = failed
        else:
            continue
        i = int((row.start - first) // BUCKET_SECONDS)
        covers = max(1, round(row.width / BUCKET_SECONDS))
        rate = row.n / row.width
        for slot in range(max(0, i), min(slots, i + covers)):
            into[slot] += rate
    return done, failed
