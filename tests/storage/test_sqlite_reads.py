"""The read API: events, counts, keyset pages, text search, failure groups, find."""

from __future__ import annotations

import random
import sqlite3

import pytest

from jobdeck.core.contract import Category, Fail, Requeue, Status, Succeed
from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.storage import SqliteStore

from .conftest import NOW, T0, change, denied, make_job, make_reason


async def churn(store: SqliteStore, seed: int, rounds: int = 12) -> None:
    """Insert, claim and finish jobs in a seeded random mix."""
    rng = random.Random(seed)
    next_id = 0
    for _ in range(rounds):
        batch = []
        for _ in range(rng.randint(1, 8)):
            batch.append(denied(next_id) if rng.random() < 0.2 else make_job(next_id))
            next_id += 1
        await store.insert(batch)
        claimed = await store.claim("w", [], rng.randint(0, 6), NOW, 30)
        changes = []
        for c in claimed:
            roll = rng.random()
            if roll < 0.4:
                changes.append(change(c.job, Succeed({"ok": True}, NOW)))
            elif roll < 0.6:
                changes.append(change(c.job, Fail(make_reason(rng.choice("ab") + "_err"), NOW)))
            elif roll < 0.8:
                retry = make_reason("flaky", Category.RETRYABLE)
                changes.append(change(c.job, Requeue(retry, NOW, NOW)))
        if changes:
            assert all(await store.apply(changes))


def count_star(db_path: str) -> dict[Status, int]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall()
    return {status: dict(rows).get(status.value, 0) for status in Status}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_counts_match_count_star_after_inserts_and_transitions(
    store: SqliteStore, db_path: str, seed: int
) -> None:
    await churn(store, seed)
    counts = await store.counts()
    assert counts == count_star(db_path)
    assert sum(counts.values()) > 0 and set(counts) == set(Status)


@pytest.mark.parametrize("seed", [4, 5])
async def test_replaying_events_gives_each_jobs_current_status(
    store: SqliteStore, seed: int
) -> None:
    await churn(store, seed)
    replayed: dict[str, Status] = {}
    cursor, seen = 0, []
    while events := await store.events(since=cursor, limit=7):
        for event in events:
            assert replayed.get(event.job_id) == event.from_status
            replayed[event.job_id] = event.to_status
        seen += [e.cursor for e in events]
        cursor = events[-1].cursor
    assert seen == sorted(set(seen)) and cursor == await store.last_cursor()
    for job_id, status in replayed.items():
        assert (await store.get(job_id)).status is status


async def test_an_empty_log_has_cursor_zero(store: SqliteStore) -> None:
    assert await store.last_cursor() == 0
    assert await store.events() == []


@pytest.mark.parametrize("newest_first", [True, False])
async def test_pages_never_repeat_or_skip_even_while_jobs_arrive(
    store: SqliteStore, newest_first: bool
) -> None:
    await store.insert([make_job(i) for i in range(0, 100, 2)])
    seen: list[str] = []
    after = None
    extra = 1
    while True:
        page = await store.page(Status.QUEUED, after=after, limit=7, newest_first=newest_first)
        seen += [job.id for job in page.jobs]
        if page.next_after is None:
            break
        after = page.next_after
        await store.insert([make_job(extra)])  # arrivals between pages must not disturb paging
        extra += 2
    assert len(seen) == len(set(seen))
    expected = sorted(seen, reverse=newest_first)
    assert seen == expected
    assert {make_job(i).id for i in range(0, 100, 2)} <= set(seen)


async def test_an_exact_last_page_has_no_next_cursor(store: SqliteStore) -> None:
    await store.insert([make_job(i) for i in range(4)])
    page = await store.page(Status.QUEUED, limit=4)
    assert len(page.jobs) == 4 and page.next_after is None


async def test_page_filters_by_kind(store: SqliteStore) -> None:
    await store.insert([make_job(1, kind="email"), make_job(2, kind="resize")])
    page = await store.page(Status.QUEUED, kind="resize")
    assert [job.kind for job in page.jobs] == ["resize"]


async def test_page_text_treats_sql_and_wildcards_as_plain_text(
    store: SqliteStore, db_path: str
) -> None:
    await store.insert(
        [
            make_job(1, payload={"note": "100% sure"}),
            make_job(2, payload={"note": "'; DROP TABLE jobs; --"}),
            make_job(3, payload={"note": "under_score"}),
            make_job(4, payload={"note": "plain"}),
        ]
    )

    async def ids(text: str) -> list[str]:
        return [job.id[-1] for job in (await store.page(Status.QUEUED, text=text)).jobs]

    assert await ids("%") == ["1"]
    assert await ids("_") == ["3"]
    assert await ids("'; DROP TABLE jobs; --") == ["2"]
    assert await ids("PLAIN") == ["4"]
    assert await ids("0004") == ["4"]  # the id
    assert await ids("emai") == ["4", "3", "2", "1"]  # the kind
    assert count_star(db_path)[Status.QUEUED] == 4


async def test_failure_groups_and_failed_with(store: SqliteStore) -> None:
    await store.insert(
        [denied(1, "too_big"), denied(2, "too_big"), denied(3, "no_owner"), make_job(4)]
    )
    assert await store.failure_groups() == [("too_big", 2), ("no_owner", 1)]
    assert [job.id[-1] for job in await store.failed_with("too_big", 10)] == ["2", "1"]
    assert [job.id[-1] for job in await store.failed_with("too_big", 1)] == ["2"]
    assert await store.failed_with("unknown_code", 10) == []


async def test_get_of_an_unknown_id_is_not_found(store: SqliteStore) -> None:
    with pytest.raises(NotFound, match="no job with id nope"):
        await store.get("nope")


async def test_find_by_whole_id_prefix_or_suffix(store: SqliteStore) -> None:
    await store.insert(
        [make_job(1), make_job(2), make_job(3, key="a").model_copy(update={"id": "01ABCDEFXYZ"})]
    )
    assert (await store.find(make_job(2).id)).id == make_job(2).id
    assert (await store.find("01ABC")).id == "01ABCDEFXYZ"
    assert (await store.find("FXYZ")).id == "01ABCDEFXYZ"
    assert (await store.find("0000000002")).id == make_job(2).id
    with pytest.raises(InvalidInput, match="more than one"):
        await store.find("00000000000")
    with pytest.raises(NotFound):
        await store.find("QQQQ")
    with pytest.raises(InvalidInput, match="at least 4"):
        await store.find("XYZ")
    with pytest.raises(NotFound):
        await store.find("%%%%")  # a wildcard is a character, not a pattern


async def test_reruns_are_listed_oldest_first(store: SqliteStore) -> None:
    original = make_job(1)
    second = make_job(3, rerun_of=original.id)
    first = make_job(2, rerun_of=original.id).model_copy(update={"created_at": T0 - 1})
    await store.insert([original, second, first])
    assert await store.reruns(original.id) == [first, second]
