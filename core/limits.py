"""Limits a kind declares for every worker at once: how many of its jobs may run together
(`concurrency`) and how many may be claimed in any window of a given length (`rate`).

Pure rules here; the rows that hold them live in the database, and each backend checks them
inside the claim transaction (see `jobdeck.storage`), so a limit holds across every worker and
host, not per process.

The rate is a bucket of `count` tokens in which a token spent at `t` comes back at `t + seconds`
(not a bucket refilled continuously: that one lets a full bucket's burst plus a window's refill,
nearly twice the rate, through in one window). So any window of `seconds` holds at most `count`
claims, which is what `"100/m"` promises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from jobdeck.core.contract import MAX_PRIORITY, MIN_PRIORITY
from jobdeck.core.errors import InvalidInput

# Window letters `Rate.parse` reads, and their length in seconds.
WINDOWS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}
WINDOW_NAMES: Final = {"s": "second", "m": "minute", "h": "hour"}
# The most claims one window may allow: each spent token is a row the claim counts.
MAX_RATE_COUNT: Final = 10_000
# The most jobs of one kind a concurrency limit may let run at once.
MAX_CONCURRENCY: Final = 100_000
_RATE: Final = re.compile(r"([0-9]{1,9})/([a-z]{1,12})")


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` claims in any window of `seconds`."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`"100/m"`: a whole number of claims per second (s), minute (m) or hour (h).

        Raises InvalidInput, in one sentence, for anything else: `0/m`, `10/fortnight`, `abc`.
        """
        if not isinstance(text, str):
            raise InvalidInput(f"a rate must be text such as '100/m', not {type(text).__name__}.")
        match = _RATE.fullmatch(text.strip())
        if match is None:
            raise InvalidInput(
                f"the rate {text!r} is not a count per window such as '100/m' (windows: s, m, h)."
            )
        count, window = int(match.group(1)), match.group(2)
        if window not in WINDOWS:
            raise InvalidInput(
                f"the rate {text!r} has an unknown window {window!r}; use s, m or h "
                "(per second, minute or hour)."
            )
        if not 1 <= count <= MAX_RATE_COUNT:
            raise InvalidInput(
                f"the rate {text!r} must allow between 1 and {MAX_RATE_COUNT:,} claims per window."
            )
        return cls(count, WINDOWS[window])

    def __str__(self) -> str:
        for letter, seconds in WINDOWS.items():
            if seconds == self.seconds:
                return f"{self.count}/{letter}"
        return f"{self.count}/{self.seconds:g}s"

    @property
    def per(self) -> str:
        """The window as a word: second, minute or hour."""
        for letter, seconds in WINDOWS.items():
            if seconds == self.seconds:
                return WINDOW_NAMES[letter]
        return f"{self.seconds:g} s"


def check_priority(priority: object) -> int:
    """A job's priority as given, or InvalidInput: a whole number from -100 to 100."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidInput(
            f"a priority must be a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}."
        )
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidInput(
            f"a priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}, not {priority}."
        )
    return priority


def check_concurrency(kind: str, concurrency: object) -> int | None:
    """The concurrency limit as given, or InvalidInput naming the kind."""
    if concurrency is None:
        return None
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise InvalidInput(f"the kind {kind!r} needs a whole-number concurrency limit.")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(
            f"the kind {kind!r} needs a concurrency limit between 1 and {MAX_CONCURRENCY:,}, "
            f"not {concurrency}."
        )
    return concurrency


@dataclass(frozen=True, slots=True)
class KindLimits:
    """What a worker declares for one kind when it starts: None means no such limit."""

    kind: str
    concurrency: int | None = None
    rate: Rate | None = None

    @property
    def limited(self) -> bool:
        return self.concurrency is not None or self.rate is not None


@dataclass(frozen=True, slots=True)
class LimitState:
    """A declared limit and what is in use now, as `jobdeck limits` and the monitor show it.

    `tokens` is how many claims the rate allows right now; `next_token_at` when the oldest
    spent token comes back (None when none is spent)."""

    kind: str
    concurrency: int | None
    rate: Rate | None
    running: int
    tokens: int | None
    next_token_at: float | None
    declared_by: str
    declared_at: float

    @property
    def allowance(self) -> int | None:
        """How many more jobs of this kind a claim may take now (None: no limit applies)."""
        left = [self.tokens] if self.tokens is not None else []
        if self.concurrency is not None:
            left.append(self.concurrency - self.running)
        return max(0, min(left)) if left else None

    @property
    def full(self) -> bool:
        """Whether a claim would get no job of this kind right now."""
        return self.allowance == 0


def pick(
    candidates: Iterable[tuple[str, str]], allowed: Mapping[str, int | None], want: int
) -> tuple[list[str], list[str]]:
    """Walk `(job id, kind)` candidates in claim order and keep those whose kind has allowance
    left, at most `want`; returns (the ids kept, the kinds this walk used up). The caller
    claims the ids, takes the used-up kinds out of the next walk and walks again for the rest.
    """
    left = dict(allowed)
    kept: list[str] = []
    used_up: list[str] = []
    for job_id, kind in candidates:
        if len(kept) == want:
            break
        room = left.get(kind)
        if room is None:
            kept.append(job_id)
            continue
        if room <= 0:
            continue
        kept.append(job_id)
        left[kind] = room - 1
        if room == 1:
            used_up.append(kind)
    return kept, used_up
