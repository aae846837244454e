"""The all-time sums a metrics endpoint keeps between scrapes: equal to summing every rollup row
while buckets are written, folded into minutes and into the all-time row; never counted twice
by scrapes at once; a late write is caught by the next full read, and a sum never goes down."""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.system import (
    ALL_TIME,
    BUCKET_SECONDS,
    HISTOGRAM_SIZE,
    HOUR,
    MINUTE,
    Outcome,
    RollupRow,
    bucket_of,
    fold_cutoffs,
)
from jobdeck.core.totals import FULL_EVERY, Totals

START = 1_800_000_000.0
KINDS = ("a", "b")


class Rollup:
    """An in-memory rollup with the store's `rollup(since)` and the writers' fold rules."""

    def __init__(self) -> None:
        self.rows: dict[tuple[float, float, str, Outcome, str], list[int]] = {}
        self.reads: list[float] = []

    def write(self, at: float, kind: str, outcome: Outcome, slot: int) -> None:
        key = (BUCKET_SECONDS, bucket_of(at), kind, outcome, "")
        self._add(key, [1] + [int(i == slot) for i in range(HISTOGRAM_SIZE)])

    def _add(self, key: tuple[float, float, str, Outcome, str], values: list[int]) -> None:
        row = self.rows.setdefault(key, [0] * (1 + HISTOGRAM_SIZE))
        for i, v in enumerate(values):
            row[i] += v

    def fold(self, now: float) -> None:
        fine, minutes, hours = fold_cutoffs(now)
        levels = ((BUCKET_SECONDS, fine, MINUTE), (MINUTE, minutes, HOUR), (HOUR, hours, None))
        for finer, cutoff, coarser in levels:
            for key in list(self.rows):
                width, start, kind, outcome, code = key
                if width == finer and start < cutoff:
                    into = (
                        (coarser, math.floor(start / coarser) * coarser, kind, outcome, code)
                        if coarser is not None
                        else (0.0, ALL_TIME, kind, outcome, code)
                    )
                    self._add(into, self.rows.pop(key))

    async def rollup(self, since: float, kind: str | None = None) -> list[RollupRow]:
        self.reads.append(since)
        await asyncio.sleep(0)  # a real read yields to the loop: let scrapes interleave
        return [
            RollupRow(start, width, k, outcome, code, v[0], tuple(v[1:]), 0.0)
            for (width, start, k, outcome, code), v in sorted(self.rows.items())
            if since <= 0 or start + width > since
        ]


def summed(rows: list[RollupRow]) -> Counter[tuple[str, Outcome, int]]:
    """n and each histogram slot per kind and outcome."""
    out: Counter[tuple[str, Outcome, int]] = Counter()
    for row in rows:
        out[(row.kind, row.outcome, -1)] += row.n
        for i, n in enumerate(row.histogram):
            out[(row.kind, row.outcome, i)] += n
    return +out


@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(0, 900), st.sampled_from([3000.0, 20_000.0, 90_000.0])),
            st.integers(0, 40),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 2**32),
)
def test_the_kept_sums_equal_the_sum_of_every_row(
    steps: list[tuple[float, int, bool]], seed: int
) -> None:
    rng = random.Random(seed)

    async def run() -> None:
        store, totals, now = Rollup(), Totals(), START
        for advance, writes, fold in steps:
            now += advance
            for _ in range(writes):
                # Moves are stamped a little before they are recorded, never by much.
                at = now - rng.uniform(0, 30)
                store.write(at, rng.choice(KINDS), rng.choice(list(Outcome)), rng.randrange(16))
            if fold:
                store.fold(now)
            kept = await totals.rows(store, now)  # type: ignore[arg-type]
            assert summed(kept) == summed(await store.rollup(0))

    asyncio.run(run())


def test_a_day_of_rows_is_read_once_then_only_the_newest() -> None:
    async def run() -> None:
        store, totals = Rollup(), Totals()
        for minute in range(0, 24 * 60, 7):
            store.write(START + minute * 60, "a", Outcome.DONE, 3)
        now = START + 24 * 3600
        first = await totals.rows(store, now)  # type: ignore[arg-type]
        second = await totals.rows(store, now + 10)  # type: ignore[arg-type]
        assert summed(first) == summed(second) == summed(await store.rollup(0))
        assert store.reads[0] == 0  # every row, once
        assert now - 4 * MINUTE < store.reads[1] < now  # then a few minutes of them
        assert len(second) <= 1 + 1  # the kept sum, and at most the newest bucket

    asyncio.run(run())


def test_scrapes_at_once_never_count_a_bucket_twice() -> None:
    async def run() -> None:
        store, totals, now = Rollup(), Totals(), START
        await totals.rows(store, now)  # type: ignore[arg-type]
        for i in range(50):
            store.write(now + i, "a", Outcome.DONE, 0)
        now += 600
        answers = await asyncio.gather(
            *(totals.rows(store, now + i) for i in range(5))  # type: ignore[arg-type]
        )
        for kept in answers:
            assert summed(kept)[("a", Outcome.DONE, -1)] == 50

    asyncio.run(run())


def test_a_late_write_is_counted_at_the_next_full_read_and_nothing_goes_down() -> None:
    async def run() -> None:
        store, totals, now = Rollup(), Totals(), START
        store.write(now, "a", Outcome.DONE, 0)
        await totals.rows(store, now)  # type: ignore[arg-type]
        now += 1800
        await totals.rows(store, now)  # type: ignore[arg-type]
        store.write(now - 1500, "a", Outcome.DONE, 0)  # recorded 25 minutes after its moment
        seen = [summed(await totals.rows(store, now + 1))[("a", Outcome.DONE, -1)]]
        seen.append(summed(await totals.rows(store, now + FULL_EVERY))[("a", Outcome.DONE, -1)])
        assert seen == [1, 2]

    asyncio.run(run())
