"""insert, claim and apply: dedupe, one owner per job, compare-and-set."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from jobdeck.core.contract import (
    Category,
    Claim,
    Fail,
    Outcome,
    Release,
    Requeue,
    Status,
    Succeed,
    transition,
)
from jobdeck.core.errors import InvalidInput, TransitionError
from jobdeck.core.store import Change
from jobdeck.storage import SqliteStore, open_store

from .conftest import NOW, T0, change, denied, make_job, make_reason


async def fail(store: SqliteStore, i: int) -> None:
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    assert claimed.job.id == make_job(i).id
    assert await store.apply([change(claimed.job, Fail(make_reason(), NOW))]) == [True]


# -- insert ------------------------------------------------------------------------------------


async def test_insert_returns_one_job_per_input_in_order(store: SqliteStore) -> None:
    jobs = [make_job(i) for i in (3, 1, 2)]
    assert await store.insert(jobs) == jobs
    assert [await store.get(job.id) for job in jobs] == jobs


async def test_the_same_key_twice_yields_the_same_job(store: SqliteStore) -> None:
    first = make_job(1, key="once")
    assert await store.insert([first]) == [first]
    assert await store.insert([make_job(2, key="once")]) == [first]
    assert await store.insert([make_job(3, key="twice"), make_job(4, key="twice")]) == [
        make_job(3, key="twice"),
        make_job(3, key="twice"),
    ]
    assert (await store.counts())[Status.QUEUED] == 2


async def test_a_batch_meeting_a_taken_key_late_stores_the_rest_once(store: SqliteStore) -> None:
    # Plain new jobs are inserted on the guess that no key is taken; the last one's key is, so
    # that guess is undone whole and the batch goes through the dedupe lookup instead.
    held = make_job(9, key="taken")
    await store.insert([held])
    batch = [make_job(i) for i in range(1, 5)] + [make_job(5, key="taken")]
    assert await store.insert(batch) == [*batch[:4], held]
    assert (await store.counts())[Status.QUEUED] == 5
    created = [e.job_id for e in await store.events()]
    assert created == [held.id, *(job.id for job in batch[:4])]


async def test_a_denied_submit_with_a_live_key_returns_the_live_job(store: SqliteStore) -> None:
    live = make_job(1, key="k")
    await store.insert([live])
    assert await store.insert([denied(2, key="k")]) == [live]


async def test_a_key_is_free_again_once_its_job_failed(store: SqliteStore) -> None:
    await store.insert([make_job(1, key="k")])
    await fail(store, 1)
    again = make_job(2, key="k")
    assert await store.insert([again]) == [again]


async def test_a_done_job_keeps_its_key(store: SqliteStore) -> None:
    await store.insert([make_job(1, key="k")])
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    await store.apply([change(claimed.job, Succeed({"ok": True}, NOW))])
    assert (await store.insert([make_job(2, key="k")]))[0].id == make_job(1).id


async def test_a_rerun_bypasses_the_key(store: SqliteStore) -> None:
    original = make_job(1, key="k")
    await store.insert([original])
    rerun = make_job(2, key="k", rerun_of=original.id)
    assert await store.insert([rerun]) == [rerun]
    assert await store.reruns(original.id) == [rerun]


async def test_the_database_itself_refuses_two_live_jobs_for_one_key(
    store: SqliteStore, db_path: str
) -> None:
    await store.insert([make_job(1, key="k")])
    with sqlite3.connect(db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO jobs (id, kind, payload, status, attempt, max_attempts,"
            " idempotency_key, dedupe_key, created_at, updated_at, run_after)"
            " VALUES ('x', 'email', '{}', 'running', 1, 3, 'k', 'k', 0, 0, 0)"
        )


async def test_insert_appends_one_creation_event_per_job(store: SqliteStore) -> None:
    await store.insert([make_job(1), denied(2, code="too_big"), make_job(3, key="key-1")])
    events = await store.events()
    assert [(e.job_id[-1], e.from_status, e.to_status, e.reason_code) for e in events] == [
        ("1", None, Status.QUEUED, None),
        ("2", None, Status.FAILED, "too_big"),
    ]


async def test_insert_refuses_a_job_that_is_not_new(store: SqliteStore) -> None:
    running = make_job(1).model_copy(update={"status": Status.RUNNING})
    with pytest.raises(InvalidInput):
        await store.insert([running])


# -- claim -------------------------------------------------------------------------------------


async def test_claim_takes_ready_jobs_by_run_after_then_id(store: SqliteStore) -> None:
    await store.insert(
        [
            make_job(1, run_after=T0 + 5),
            make_job(2, run_after=T0 + 1),
            make_job(3, run_after=T0 + 1),
            make_job(4, run_after=NOW + 1),  # not ready yet
        ]
    )
    claimed = await store.claim("w", [], 10, NOW, 30)
    assert [c.job.id[-1] for c in claimed] == ["2", "3", "1"]
    assert await store.claim("w", [], 10, NOW, 30) == []
    assert [c.job.id[-1] for c in await store.claim("w", [], 10, NOW + 1, 30)] == ["4"]


async def test_claim_is_the_claim_transition(store: SqliteStore) -> None:
    job = make_job(1)
    await store.insert([job])
    [claimed] = await store.claim("w1", [], 1, NOW, 30)
    assert claimed.job == transition(job, Claim("w1", NOW + 30, NOW))
    assert claimed.fault is None
    assert await store.get(job.id) == claimed.job


async def test_claim_filters_kinds_and_no_kinds_means_any(store: SqliteStore) -> None:
    await store.insert([make_job(1, kind="email"), make_job(2, kind="resize"), make_job(3)])
    assert [c.job.id[-1] for c in await store.claim("w", ["resize"], 10, NOW, 30)] == ["2"]
    assert await store.claim("w", ["nothing"], 10, NOW, 30) == []
    assert [c.job.id[-1] for c in await store.claim("w", [], 10, NOW, 30)] == ["1", "3"]


async def test_claim_opens_one_attempt_and_appends_one_event(store: SqliteStore) -> None:
    await store.insert([make_job(1)])
    await store.claim("w", [], 1, NOW, 30)
    [attempt] = await store.attempts(make_job(1).id)
    assert (attempt.n, attempt.started_at, attempt.outcome, attempt.worker) == (
        1,
        NOW,
        Outcome.RUNNING,
        "w",
    )
    last = (await store.events())[-1]
    assert (last.from_status, last.to_status, last.attempt) == (Status.QUEUED, Status.RUNNING, 1)


async def test_two_stores_on_one_file_never_claim_the_same_job(
    store: SqliteStore, db_path: str
) -> None:
    await store.insert([make_job(i) for i in range(300)])
    other = await open_store(db_path)

    async def drain(s: SqliteStore, name: str) -> list[str]:
        got: list[str] = []
        while claimed := await s.claim(name, [], 7, NOW, 30):
            got += [c.job.id for c in claimed]
        return got

    try:
        a, b = await asyncio.gather(drain(store, "a"), drain(other, "b"))
    finally:
        await other.close()
    assert not set(a) & set(b)
    assert sorted(a + b) == [make_job(i).id for i in range(300)]
    assert len(await store.attempts(make_job(0).id)) == 1


# -- apply -------------------------------------------------------------------------------------


async def test_apply_succeed_closes_the_attempt_and_appends_an_event(store: SqliteStore) -> None:
    await store.insert([make_job(1)])
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    done = change(claimed.job, Succeed({"size": 3}, NOW + 1))
    assert await store.apply([done]) == [True]
    assert await store.get(claimed.job.id) == done.after
    [attempt] = await store.attempts(claimed.job.id)
    assert (attempt.finished_at, attempt.outcome) == (NOW + 1, Outcome.DONE)
    last = (await store.events())[-1]
    assert (last.from_status, last.to_status, last.attempt, last.at) == (
        Status.RUNNING,
        Status.DONE,
        1,
        NOW + 1,
    )


async def test_apply_with_a_stale_before_loses_and_writes_nothing(store: SqliteStore) -> None:
    await store.insert([make_job(1)])
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    lost_lease = make_reason("lease_expired", Category.LOST_LEASE)
    assert await store.apply([change(claimed.job, Requeue(lost_lease, NOW, NOW))]) == [True]
    [again] = await store.claim("w2", [], 1, NOW, 30)
    before = (
        await store.get(claimed.job.id),
        await store.events(),
        await store.attempts(again.job.id),
    )
    # the first worker finishes late: its `before` (attempt 1, owner w) is stale
    assert await store.apply([change(claimed.job, Succeed("late", NOW + 2))]) == [False]
    after = (
        await store.get(claimed.job.id),
        await store.events(),
        await store.attempts(again.job.id),
    )
    assert after == before
    assert after[0].lease_owner == "w2" and after[0].attempt == 2


async def test_one_batch_may_mix_winners_and_losers(store: SqliteStore) -> None:
    await store.insert([make_job(1), make_job(2)])
    c1, c2 = await store.claim("w", [], 2, NOW, 30)
    stale = c2.job.model_copy(update={"lease_owner": "someone else"})
    results = await store.apply([change(c1.job, Succeed(1, NOW)), change(stale, Succeed(2, NOW))])
    assert results == [True, False]
    counts = await store.counts()
    assert (counts[Status.DONE], counts[Status.RUNNING]) == (1, 1)


async def test_a_release_hands_the_attempt_number_back(store: SqliteStore) -> None:
    await store.insert([make_job(1)])
    [claimed] = await store.claim("w", [], 1, NOW, 30)
    assert await store.apply([change(claimed.job, Release(NOW))]) == [True]
    assert (await store.get(claimed.job.id)).attempt == 0
    [again] = await store.claim("w", [], 1, NOW + 1, 30)
    assert again.job.attempt == 1
    attempts = await store.attempts(claimed.job.id)
    assert [(a.n, a.outcome) for a in attempts] == [(1, Outcome.RELEASED), (1, Outcome.RUNNING)]


async def test_apply_refuses_an_illegal_status_change_before_writing(store: SqliteStore) -> None:
    await store.insert([make_job(1)])
    job = make_job(1)
    bogus = Change(job, job.model_copy(update={"status": Status.DONE}))
    with pytest.raises(TransitionError):
        await store.apply([bogus])
    assert await store.get(job.id) == job
    assert len(await store.events()) == 1
