"""Outage: one warning when the store becomes unreachable, one info line when it is back, the
traceback only at debug level, and waits from 0.1 s doubling to 2 s."""

from __future__ import annotations

import logging

import pytest

from jobdeck.core.errors import StorageError, StoreUnavailable
from jobdeck.core.outage import MAX_DELAY, Outage

DOWN = StoreUnavailable("cannot reach the PostgreSQL server at db:5432: nothing accepts it.")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def down() -> None:
    raise DOWN


async def up() -> int:
    return 1


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "jobdeck.outage"]


async def test_an_outage_is_one_warning_and_one_line_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="jobdeck.outage")
    clock = Clock()
    outage = Outage(clock)
    for _ in range(5):
        with pytest.raises(StoreUnavailable):
            await outage.call(down())
        clock.now += 0.5
    assert outage.active
    assert await outage.call(up()) == 1
    assert not outage.active
    assert lines(caplog) == [
        (
            "WARNING",
            "store unreachable: cannot reach the PostgreSQL server at db:5432: nothing accepts "
            "it; retrying",
        ),
        ("INFO", "store reachable again after 2.5 s"),
    ]
    assert not any(r.exc_info for r in caplog.records)
    assert outage.count == 1


async def test_a_call_sent_before_the_store_came_back_is_not_a_new_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="jobdeck.outage")
    clock = Clock()
    outage = Outage(clock)
    outage.failed(DOWN)
    sent_before = clock.now + 0.1  # in flight on a connection the restart broke
    clock.now += 1
    outage.reached()
    clock.now += 0.2
    outage.failed(DOWN, started=sent_before)
    assert not outage.active and outage.count == 1
    clock.now += 1
    outage.failed(DOWN)  # sent after: a second outage
    assert outage.active and outage.count == 2
    assert [level for level, _ in lines(caplog)] == ["WARNING", "INFO", "WARNING"]


def test_the_wait_doubles_from_a_tenth_of_a_second_to_two() -> None:
    outage = Outage(Clock())
    delays = []
    for _ in range(8):
        outage.failed(DOWN)
        delays.append(outage.delay)
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, MAX_DELAY, MAX_DELAY, MAX_DELAY]
    outage.reached()
    outage.failed(DOWN)
    assert outage.delay == 0.1


async def test_the_traceback_is_logged_only_at_debug_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="jobdeck.outage")
    outage = Outage(Clock())
    with pytest.raises(StoreUnavailable):
        await outage.call(down())
    traced = [r for r in caplog.records if r.exc_info]
    assert [r.levelname for r in traced] == ["DEBUG"]


async def test_other_storage_errors_pass_through_unnoted() -> None:
    outage = Outage(Clock())

    async def broken() -> None:
        raise StorageError("newer schema")

    with pytest.raises(StorageError):
        await outage.call(broken())
    assert not outage.active and outage.count == 0
