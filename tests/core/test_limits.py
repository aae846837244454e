"""The pure rules of limits: reading a rate, and keeping candidates within their allowance."""

from __future__ import annotations

import pytest

from jobdeck.core.errors import InvalidInput
from jobdeck.core.limits import LimitState, Rate, pick


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("100/m", 100, 60.0), ("1/s", 1, 1.0), ("10000/h", 10_000, 3600.0), (" 5/s ", 5, 1.0)],
)
def test_a_rate_reads_a_count_per_second_minute_or_hour(
    text: str, count: int, seconds: float
) -> None:
    assert Rate.parse(text) == Rate(count, seconds)
    assert str(Rate.parse(text)) == text.strip()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0/m", "between 1 and 10,000"),
        ("10001/m", "between 1 and 10,000"),
        ("10/fortnight", "unknown window 'fortnight'"),
        ("abc", "not a count per window"),
        ("-1/m", "not a count per window"),
        ("1.5/m", "not a count per window"),
        ("", "not a count per window"),
        ("10/M", "not a count per window"),
    ],
)
def test_a_bad_rate_is_one_sentence(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as caught:
        Rate.parse(text)
    assert str(caught.value).endswith(".") and "\n" not in str(caught.value)


def test_pick_keeps_candidates_in_order_within_each_kinds_allowance() -> None:
    candidates = [("1", "a"), ("2", "b"), ("3", "a"), ("4", "c"), ("5", "a"), ("6", "b")]
    kept, used_up = pick(candidates, {"a": 2, "b": None}, 10)
    assert kept == ["1", "2", "3", "4", "6"] and used_up == ["a"]
    assert pick(candidates, {"a": 5}, 2) == (["1", "2"], [])


def test_the_allowance_is_the_tighter_of_concurrency_and_tokens() -> None:
    def state(concurrency: int | None, running: int, tokens: int | None) -> LimitState:
        rate = None if tokens is None else Rate(10, 60.0)
        return LimitState("k", concurrency, rate, running, tokens, None, "w", 0.0)

    assert state(5, 2, None).allowance == 3
    assert state(5, 2, 1).allowance == 1
    assert state(None, 0, 4).allowance == 4
    assert state(2, 3, 9).allowance == 0 and state(2, 3, 9).full
    assert state(None, 7, None).allowance is None
