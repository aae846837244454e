"""Priorities and the limits a kind holds across every worker, once per backend: the claim hands
out the highest priority first, never takes a kind past its concurrency or its rate, and still
takes other kinds while one waits."""

from __future__ import annotations

from typing import Any

import pytest

from jobdeck.core import Engine, Registry, Status
from jobdeck.core.contract import Succeed, transition
from jobdeck.core.errors import InvalidInput
from jobdeck.core.store import Change, Store
from tests.engine.conftest import drain

T0 = 1_800_000_000.0
DAY = 86_400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limited_registry() -> Registry:
    registry = Registry()

    async def ok(ctx: Any, payload: Any) -> Any:
        return None

    registry.kind("plain")(ok)
    registry.kind("urgent", priority=50)(ok)
    registry.kind("capped", concurrency=2)(ok)
    registry.kind("metered", rate="3/m")(ok)
    return registry


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def limited(store: Store, clock: Clock) -> Engine:
    engine = Engine(store, limited_registry(), clock=clock)
    await store.declare_limits("w-test", engine.registry.limits(), clock())
    return engine


async def claim(engine: Engine, n: int, *, at: float, kinds: tuple[str, ...] = ()) -> list[str]:
    got = await engine.store.claim("w", kinds, n, at, DAY)
    return [c.job.id for c in got]


async def finish(engine: Engine, job_id: str, at: float) -> None:
    before = await engine.get(job_id)
    assert await engine.store.apply([Change(before, transition(before, Succeed(None, at)))])


async def test_a_claim_hands_out_the_highest_priority_first_then_run_after_then_id(
    limited: Engine, clock: Clock
) -> None:
    low = await limited.submit("plain", {"n": 1}, priority=-5)
    first = await limited.submit("plain", {"n": 2})
    clock.now += 1
    later = await limited.submit("plain", {"n": 3})
    high = await limited.submit("plain", {"n": 4}, priority=100)
    order = [await claim(limited, 1, at=clock.now + 5) for _ in range(5)]
    assert order == [[high.id], [first.id], [later.id], [low.id], []]


async def test_one_claim_returns_its_jobs_in_claim_order(limited: Engine, clock: Clock) -> None:
    jobs = [await limited.submit("plain", {"n": n}, priority=n) for n in range(5)]
    assert await claim(limited, 10, at=clock.now) == [j.id for j in reversed(jobs)]


async def test_a_kind_default_priority_applies_unless_the_submit_names_one(
    limited: Engine,
) -> None:
    urgent = await limited.submit("urgent", {})
    lowered = await limited.submit("urgent", {"x": 1}, priority=-1)
    assert (urgent.priority, lowered.priority) == (50, -1)
    assert (await limited.get(urgent.id)).priority == 50
    (many,) = await limited.submit_many("plain", [{}], priority=7)
    assert (await limited.get(many.id)).priority == 7


async def test_a_rerun_keeps_the_original_priority(limited: Engine, clock: Clock) -> None:
    job = await limited.submit("plain", {}, priority=9)
    (claimed,) = await claim(limited, 1, at=clock.now)
    await finish(limited, claimed, clock.now)
    again = await limited.rerun(job.id)
    assert again.priority == 9


@pytest.mark.parametrize("bad", [101, -101, 10**9, 1.5, "3", True])
async def test_a_bad_priority_is_refused_and_nothing_is_stored(
    limited: Engine, bad: object
) -> None:
    with pytest.raises(InvalidInput, match="priority"):
        await limited.submit("plain", {}, priority=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="priority"):
        await limited.submit_many("plain", [{}, {"a": 1}], priority=bad)  # type: ignore[arg-type]
    assert (await limited.counts())[Status.QUEUED] == 0


async def test_a_concurrency_limit_holds_and_other_kinds_are_still_claimed(
    limited: Engine, clock: Clock
) -> None:
    capped = [await limited.submit("capped", {"n": n}, priority=10) for n in range(4)]
    plain = [await limited.submit("plain", {"n": n}) for n in range(3)]
    got = await claim(limited, 10, at=clock.now)
    assert got == [capped[0].id, capped[1].id, *(j.id for j in plain)]
    assert await claim(limited, 10, at=clock.now) == []
    await finish(limited, capped[0].id, clock.now)
    assert await claim(limited, 10, at=clock.now) == [capped[2].id]
    (state,) = [s for s in await limited.limits() if s.kind == "capped"]
    assert (state.concurrency, state.running, state.full) == (2, 2, True)


async def test_a_worker_completing_a_job_claims_the_freed_slot_in_the_same_transaction(
    limited: Engine, clock: Clock
) -> None:
    jobs = [await limited.submit("capped", {"n": n}) for n in range(3)]
    first = await claim(limited, 10, at=clock.now)
    assert first == [jobs[0].id, jobs[1].id]
    before = await limited.get(jobs[0].id)
    change = Change(before, transition(before, Succeed(None, clock.now)))
    applied, claimed = await limited.store.apply_and_claim([change], "w", (), 10, clock.now, DAY)
    assert applied == [True] and [c.job.id for c in claimed] == [jobs[2].id]


async def test_a_rate_allows_its_count_in_any_window_and_never_blocks_other_kinds(
    limited: Engine, clock: Clock
) -> None:
    metered = [await limited.submit("metered", {"n": n}, priority=5) for n in range(8)]
    plain = await limited.submit("plain", {})
    got = await claim(limited, 10, at=clock.now)
    assert got == [*(j.id for j in metered[:3]), plain.id]
    (state,) = [s for s in await limited.limits() if s.kind == "metered"]
    assert (state.tokens, state.next_token_at) == (0, clock.now + 60)
    assert await claim(limited, 10, at=clock.now + 59.9) == []
    # Each token comes back a whole window after it was spent, never sooner.
    assert await claim(limited, 10, at=clock.now + 60) == [j.id for j in metered[3:6]]
    assert await claim(limited, 10, at=clock.now + 119) == []
    assert await claim(limited, 1, at=clock.now + 120) == [metered[6].id]


async def test_a_rate_counts_tokens_spent_across_claims_within_a_window(
    limited: Engine, clock: Clock
) -> None:
    metered = [await limited.submit("metered", {"n": n}) for n in range(5)]
    assert await claim(limited, 1, at=clock.now) == [metered[0].id]
    assert await claim(limited, 1, at=clock.now + 30) == [metered[1].id]
    assert await claim(limited, 5, at=clock.now + 45) == [metered[2].id]
    # The first token is back at +60, the second at +90.
    assert await claim(limited, 5, at=clock.now + 60) == [metered[3].id]
    assert await claim(limited, 5, at=clock.now + 89) == []
    assert await claim(limited, 5, at=clock.now + 90) == [metered[4].id]


async def test_a_claim_for_named_kinds_obeys_limits_too(limited: Engine, clock: Clock) -> None:
    capped = [await limited.submit("capped", {"n": n}) for n in range(3)]
    await limited.submit("plain", {})
    got = await claim(limited, 10, at=clock.now, kinds=("capped",))
    assert got == [capped[0].id, capped[1].id]


async def test_the_last_worker_to_start_wins_and_no_limit_deletes_the_row(
    limited: Engine, clock: Clock
) -> None:
    store = limited.store
    wider = Registry()

    async def ok(ctx: Any, payload: Any) -> Any:
        return None

    wider.kind("capped", concurrency=5)(ok)
    wider.kind("metered")(ok)
    await store.declare_limits("w-later", wider.limits(), clock.now + 1)
    states = {s.kind: s for s in await limited.limits()}
    assert set(states) == {"capped"}
    assert (states["capped"].concurrency, states["capped"].declared_by) == (5, "w-later")


async def test_a_worker_records_its_kinds_limits_when_it_starts(store: Store, clock: Clock) -> None:
    engine = Engine(store, limited_registry(), clock=clock)
    await engine.submit("capped", {})
    await drain(engine)
    states = {s.kind: s for s in await engine.limits()}
    assert set(states) == {"capped", "metered"}
    assert states["metered"].rate is not None and str(states["metered"].rate) == "3/m"
    assert states["capped"].running == 0
