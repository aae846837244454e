"""The pure rules of the system views: what the rollup counts, the 5-minute ring, fold cutoffs."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.contract import Category, Job, Reason, Status
from jobdeck.core.contract import Outcome as AttemptOutcome
from jobdeck.core.system import (
    FINE_FOR,
    HOUR,
    KEEP_FOR,
    MINUTE,
    MINUTES_FOR,
    Outcome,
    RecentCounts,
    ended_as,
    fold_cutoffs,
)

T0 = 1_700_000_000.0


def job(status: Status) -> Job:
    return Job(
        id="0" * 26, kind="email", payload={}, status=status, idempotency_key="k",
        created_at=T0, updated_at=T0, run_after=T0,
    )  # fmt: skip


def reason(code: str, category: Category) -> Reason:
    return Reason(code=code, message=code, category=category)


def test_each_move_counts_as_its_outcome_and_a_claim_or_release_does_not() -> None:
    denied = reason("too_big", Category.DENIED)
    cancelled = reason("cancelled", Category.CANCELLED)
    boom = reason("boom", Category.TERMINAL)
    flaky = reason("flaky", Category.RETRYABLE)
    failed, done, queued = job(Status.FAILED), job(Status.DONE), job(Status.QUEUED)
    running = Status.RUNNING
    assert ended_as(None, failed, None, denied) == (Outcome.DENIED, "too_big")
    assert ended_as(None, queued, None, None) is None
    assert ended_as(Status.QUEUED, job(Status.RUNNING), None, None) is None
    assert ended_as(Status.QUEUED, failed, None, cancelled) == (Outcome.CANCELLED, "cancelled")
    assert ended_as(running, done, AttemptOutcome.DONE, None) == (Outcome.DONE, "")
    assert ended_as(running, failed, AttemptOutcome.FAILED, boom) == (Outcome.FAILED, "boom")
    assert ended_as(running, failed, AttemptOutcome.FAILED, cancelled) == (
        Outcome.CANCELLED,
        "cancelled",
    )
    assert ended_as(running, queued, AttemptOutcome.RETRY, flaky) == (Outcome.RETRIED, "flaky")
    assert ended_as(running, queued, AttemptOutcome.RELEASED, None) is None


def test_the_ring_forgets_what_is_older_than_five_minutes() -> None:
    recent = RecentCounts()
    recent.add(T0, failed=False)
    recent.add(T0 + 5, failed=True)
    recent.add(T0 + 200, failed=False)
    assert recent.totals(T0 + 200) == (2, 1)
    assert recent.totals(T0 + 320) == (1, 0)
    assert recent.totals(T0 + 1000) == (0, 0)


@given(st.lists(st.floats(0, 3000), max_size=50), st.floats(0, 3000))
def test_the_ring_counts_exactly_the_slots_of_the_last_five_minutes(
    offsets: list[float], later: float
) -> None:
    recent = RecentCounts()
    for offset in sorted(offsets):
        recent.add(T0 + offset, failed=False)
    now = T0 + max([later, *offsets])
    newest = int(now // 10)
    expected = sum(1 for o in offsets if newest - 30 < int((T0 + o) // 10) <= newest)
    assert recent.totals(now) == (expected, 0)


@given(st.floats(KEEP_FOR, 4e9))
def test_fold_cutoffs_are_whole_minutes_and_hours_past_their_ages(now: float) -> None:
    fine, minutes, hours = fold_cutoffs(now)
    assert fine % MINUTE == 0 and minutes % HOUR == 0 and hours % HOUR == 0
    assert now - FINE_FOR - MINUTE < fine <= now - FINE_FOR
    assert now - MINUTES_FOR - HOUR < minutes <= now - MINUTES_FOR
    assert now - KEEP_FOR - HOUR < hours <= now - KEEP_FOR
    assert hours < minutes < fine  # a bucket reaches each level only after the finer one


def test_the_oldest_wait_counts_from_run_after_and_a_kind_all_scheduled_later_waits_none() -> None:
    from jobdeck.core.system import kind_stats

    counts = {kind: {Status.QUEUED: 1} for kind in ("later", "ready", "idle")}
    oldest = {"later": T0 + 3600, "ready": T0 - 42}
    stats = {s.kind: s for s in kind_stats([], counts, oldest, now=T0, since=T0 - FINE_FOR)}
    assert stats["later"].oldest_queued_wait is None  # due in an hour: nobody waits yet
    assert stats["ready"].oldest_queued_wait == 42.0
    assert stats["idle"].oldest_queued_wait is None  # nothing queued


def test_throughput_spreads_a_minute_over_its_six_buckets_and_keeps_fine_ones_as_they_are() -> None:
    from jobdeck.core.system import BUCKET_SECONDS, STATS_WINDOW, RollupRow, throughput

    now = T0 + 5.0  # T0 is a whole minute
    first = T0 - STATS_WINDOW + BUCKET_SECONDS  # the oldest bucket shown
    minute = RollupRow(first + 50, MINUTE, "a", Outcome.DONE, "", 60, (0,) * 16, 0.0)
    fine = RollupRow(T0, BUCKET_SECONDS, "a", Outcome.FAILED, "x", 20, (0,) * 16, 0.0)
    done, failed = throughput([minute, fine], now=now, span=STATS_WINDOW)
    assert len(done) == 90
    assert done[5:11] == [1.0] * 6 and sum(done) == 6.0  # 60 jobs: 1 a second for 60 s
    assert failed[-1] == 2.0 and sum(failed) == 2.0


@given(st.floats(T0, T0 + 86_400))
def test_throughput_edges_are_minutes_then_the_fine_buckets_up_to_now(now: float) -> None:
    from jobdeck.core.system import BUCKET_SECONDS, STATS_WINDOW, bucket_of, throughput_edges

    edges = throughput_edges(now, STATS_WINDOW)
    pairs = list(pairwise(edges))
    fine = fold_cutoffs(now).fine
    assert edges[0] <= bucket_of(now) - STATS_WINDOW + BUCKET_SECONDS
    assert edges[-1] == bucket_of(now) + BUCKET_SECONDS
    assert all(b - a == (MINUTE if a < fine else BUCKET_SECONDS) for a, b in pairs)
    assert fine in edges  # no span straddles the edge between the two levels
