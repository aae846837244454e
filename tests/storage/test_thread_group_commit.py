"""Group commit for blocking callers on many threads: callers that arrive while a write runs share
the next one, each gets its own results, and one caller's bad input fails that caller alone."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import pytest

from jobdeck.core.errors import InvalidInput
from jobdeck.storage.sqlite.group_commit import ThreadGroupCommit


class Gate:
    """A write function whose first call holds until the test opens it."""

    def __init__(self) -> None:
        self.writes: list[list[int]] = []
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.writes.append(list(items))
        self.entered.set()
        self.opened.wait(timeout=30)
        if any(i < 0 for i in items):
            raise InvalidInput("negative")
        return [i * 10 for i in items]


def _in_threads(
    group: ThreadGroupCommit[int, int], batches: list[list[int]]
) -> tuple[list[threading.Thread], list[object]]:
    answers: list[object] = [None] * len(batches)

    def call(n: int) -> None:
        try:
            answers[n] = group(batches[n])
        except InvalidInput as err:
            answers[n] = err

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(batches))]
    for thread in threads:
        thread.start()
    return threads, answers


def _until(condition: Callable[[], bool]) -> None:
    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the condition never held")


def _arrive_during_a_write(write: Gate, batches: list[list[int]]) -> list[object]:
    group: ThreadGroupCommit[int, int] = ThreadGroupCommit(write)
    first_threads, first = _in_threads(group, [[0]])
    assert write.entered.wait(timeout=30)
    threads, answers = _in_threads(group, batches)
    _until(lambda: len(group._waiting) == len(batches))
    write.opened.set()
    for thread in [*first_threads, *threads]:
        thread.join()
    assert first == [[0]]
    return answers


def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    write = Gate()
    answers = _arrive_during_a_write(write, [[1], [2, 3], [4]])
    assert answers == [[10], [20, 30], [40]]
    assert write.writes[0] == [0] and sorted(write.writes[1]) == [1, 2, 3, 4]
    assert len(write.writes) == 2


def test_one_callers_bad_input_fails_that_caller_alone() -> None:
    write = Gate()
    answers = _arrive_during_a_write(write, [[1], [-2], [3]])
    assert answers[0] == [10] and answers[2] == [30]
    assert isinstance(answers[1], InvalidInput)


def test_a_lone_caller_writes_at_once_on_its_own_thread() -> None:
    seen: list[str] = []

    def write(items: list[int]) -> list[int]:
        seen.append(threading.current_thread().name)
        return items

    group: ThreadGroupCommit[int, int] = ThreadGroupCommit(write)
    assert group([1]) == [1] and group([2]) == [2]
    assert seen == [threading.current_thread().name] * 2


def test_an_unexpected_error_reaches_every_caller_of_the_group() -> None:
    def write(items: list[int]) -> list[int]:
        raise RuntimeError("a bug")

    group: ThreadGroupCommit[int, int] = ThreadGroupCommit(write)
    with pytest.raises(RuntimeError, match="a bug"):
        group([1])
    with pytest.raises(RuntimeError, match="a bug"):  # and the next caller is not stuck
        group([2])


def test_the_running_writer_writes_a_few_groups_then_wakes_the_next_caller() -> None:
    writes: list[tuple[str, list[int]]] = []
    entered: queue.Queue[None] = queue.Queue()
    release = threading.Semaphore(0)

    def write(items: list[int]) -> list[int]:
        writes.append((threading.current_thread().name, list(items)))
        entered.put(None)
        release.acquire(timeout=30)
        return [i * 10 for i in items]

    group: ThreadGroupCommit[int, int] = ThreadGroupCommit(write)
    answers: dict[int, list[int]] = {}
    callers = []
    turns = ThreadGroupCommit.TURNS
    for n in range(turns + 1):
        caller = threading.Thread(
            target=lambda n=n: answers.__setitem__(n, group([n])), name=f"caller-{n}"
        )
        callers.append(caller)
        caller.start()
        if n == 0:
            entered.get(timeout=30)  # caller 0 is writing its own group
            continue
        _until(lambda: len(group._waiting) == 1)  # caller n queued behind the running write
        release.release()
        entered.get(timeout=30)  # the next write has started, holding caller n
    release.release()
    for caller in callers:
        caller.join()
    assert answers == {n: [n * 10] for n in range(turns + 1)}
    # caller 0 wrote its own group and the next TURNS - 1; the one after was its own writer
    assert writes == [("caller-0", [n]) for n in range(turns)] + [(f"caller-{turns}", [turns])]


def test_a_lone_writers_own_error_is_its_own_and_the_next_caller_writes_on() -> None:
    write = Gate()
    group: ThreadGroupCommit[int, int] = ThreadGroupCommit(write)
    first_threads, first = _in_threads(group, [[-1]])
    assert write.entered.wait(timeout=30)
    threads, answers = _in_threads(group, [[2]])
    _until(lambda: len(group._waiting) == 1)
    write.opened.set()
    for thread in [*first_threads, *threads]:
        thread.join(timeout=30)
        assert not thread.is_alive()  # the waiting caller was woken to write on
    assert isinstance(first[0], InvalidInput)
    assert answers == [[20]]
    assert write.writes == [[-1], [2]]
    assert not group._writing  # nobody is left holding the writer's turn
