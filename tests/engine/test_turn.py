"""A worker's turn (finish attempts, claim more) and a queued submit keep every record exact on
both backends. PostgreSQL makes each one statement outside any transaction when it can, and
falls back to a transaction when a fault is armed, a kind has a limit, a job goes back to the
queue or a batch holds a job twice: each case here is run on both backends and read back the
same way, so the one-statement path and the transactional one must agree."""

from __future__ import annotations

from collections import Counter

from jobdeck.core import Category, Engine, Status
from jobdeck.core.contract import Fail, Fault, Outcome, Reason, Succeed, transition
from jobdeck.core.store import Change, Claimed
from jobdeck.core.system import HISTOGRAM_SIZE, histogram_slot
from jobdeck.core.system import Outcome as Ended

KIND = "demo.echo"


def succeed(c: Claimed, at: float) -> Change:
    return Change(c.job, transition(c.job, Succeed({"ok": True}, at)), outcome=Outcome.DONE)


def fail(c: Claimed, at: float) -> Change:
    reason = Reason(code="boom", message="it broke", category=Category.TERMINAL)
    return Change(c.job, transition(c.job, Fail(reason, at)), Outcome.FAILED, reason)


async def statuses(engine: Engine) -> Counter[Status]:
    """Jobs per status read from the jobs themselves, not from the counts."""
    found: Counter[Status] = Counter()
    for status in Status:
        found[status] = len((await engine.store.page(status, limit=1000)).jobs)
    return found


async def assert_records_agree(engine: Engine) -> None:
    """counts and kind_counts equal the jobs table, and every job's events end where it is."""
    table = await statuses(engine)
    assert await engine.store.counts() == {s: table[s] for s in Status}
    per_kind = await engine.store.kind_counts()
    assert {k: sum(v.values()) for k, v in per_kind.items()} == {KIND: sum(table.values())}
    assert per_kind[KIND] == {s: table[s] for s in Status}
    last: dict[str, Status] = {}
    for event in await engine.events(limit=1000):
        last[event.job_id] = event.to_status
    for status in Status:
        for job in (await engine.store.page(status, limit=1000)).jobs:
            assert last[job.id] is status


async def test_a_turn_records_what_ended_claims_more_and_keeps_every_record_exact(
    engine: Engine,
) -> None:
    jobs = [await engine.submit(KIND, {"n": n}) for n in range(6)]
    t = max(j.run_after for j in jobs) + 1
    first = await engine.store.claim("w", [], 3, now=t, lease_seconds=30.0)
    assert [c.job.id for c in first] == [j.id for j in jobs[:3]]
    # A change whose lease moved on (its attempt number is stale) loses its compare-and-set.
    stale_job = first[2].job.model_copy(update={"attempt": first[2].job.attempt + 5})
    stale = Change(stale_job, transition(stale_job, Succeed(None, t + 2)), outcome=Outcome.DONE)
    changes = [succeed(first[0], t + 2), fail(first[1], t + 2), stale]

    applied, more = await engine.store.apply_and_claim(changes, "w", [], 2, t + 2, 30.0)

    assert applied == [True, True, False]
    assert [c.job.id for c in more] == [j.id for j in jobs[3:5]]
    assert all(c.fault is None and c.job.status is Status.RUNNING for c in more)
    assert (await engine.get(jobs[0].id)).status is Status.DONE
    failed = await engine.get(jobs[1].id)
    assert failed.status is Status.FAILED and failed.reason is not None
    assert failed.reason.code == "boom"
    assert (await engine.get(jobs[2].id)).status is Status.RUNNING  # untouched
    tail = [(e.job_id, e.to_status, e.reason_code) for e in (await engine.events())[-4:]]
    assert tail == [
        (jobs[0].id, Status.DONE, None),
        (jobs[1].id, Status.FAILED, "boom"),
        (jobs[3].id, Status.RUNNING, None),
        (jobs[4].id, Status.RUNNING, None),
    ]
    attempts = (await engine.store.attempts(jobs[1].id))[-1]
    assert attempts.outcome is Outcome.FAILED and attempts.finished_at == t + 2
    assert [a.outcome for a in await engine.store.attempts(jobs[3].id)] == [Outcome.RUNNING]
    rows = await engine.store.rollup(0.0)
    ended = Counter((r.kind, r.outcome, r.code) for r in rows for _ in range(r.n))
    assert ended == Counter({(KIND, Ended.DONE, ""): 1, (KIND, Ended.FAILED, "boom"): 1})
    (done_row,) = [r for r in rows if r.outcome is Ended.DONE]
    assert done_row.run_time == 2.0
    assert done_row.histogram == tuple(int(i == histogram_slot(2.0)) for i in range(HISTOGRAM_SIZE))
    await assert_records_agree(engine)


async def test_a_turn_hands_out_an_armed_fault_with_the_job_it_claims(engine: Engine) -> None:
    jobs = [await engine.submit(KIND, {"n": n}) for n in range(3)]
    t = max(j.run_after for j in jobs) + 1
    (claimed,) = await engine.store.claim("w", [], 1, now=t, lease_seconds=30.0)
    await engine.store.arm_fault(Fault(kind=KIND, created_at=t))

    applied, more = await engine.store.apply_and_claim(
        [succeed(claimed, t + 1)], "w", [], 2, t + 1, 30.0
    )

    assert applied == [True]
    assert [c.fault is not None for c in more] == [True, False]  # one attempt armed, one fault
    assert (await engine.get(jobs[0].id)).status is Status.DONE
    await assert_records_agree(engine)


async def test_a_turn_with_nothing_ready_claims_nothing_and_still_records(engine: Engine) -> None:
    job = await engine.submit(KIND, {"n": 1})
    t = job.run_after + 1
    (claimed,) = await engine.store.claim("w", [], 1, now=t, lease_seconds=30.0)
    applied, more = await engine.store.apply_and_claim(
        [succeed(claimed, t + 1)], "w", [], 4, t + 1, 30.0
    )
    assert (applied, more) == ([True], [])
    applied, more = await engine.store.apply_and_claim([], "w", [KIND], 4, t + 2, 30.0)
    assert (applied, more) == ([], [])
    await assert_records_agree(engine)


async def test_a_queued_submit_stores_each_key_once_and_returns_its_holder(
    engine: Engine,
) -> None:
    first = await engine.submit(KIND, {"n": 1}, key="order-1")
    again = await engine.submit(KIND, {"n": 2}, key="order-1")
    assert again.id == first.id
    held = await engine.submit_many(KIND, [{"n": 3}, {"n": 4}], key="order-1")
    assert [j.id for j in held] == [first.id, first.id]
    batch = await engine.submit_many(KIND, [{"n": 5}, {"n": 6}], key="order-2")
    assert batch[0].id == batch[1].id != first.id
    plain = await engine.submit_many(KIND, [{"n": 7}, {"n": 8}])
    assert (await engine.store.counts())[Status.QUEUED] == 4
    created = [e for e in await engine.events() if e.from_status is None]
    assert [e.job_id for e in created] == [first.id, batch[0].id, plain[0].id, plain[1].id]
    await assert_records_agree(engine)
