"""What both backends do with the limits a claim obeys: the rows of `kind_limits` as
`LimitState`s, and the allowance of each limited kind a claim may take (`core.limits` holds
the arithmetic; each backend's claim walks the candidates)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jobdeck.core.limits import KindLimits, LimitState, Rate
from jobdeck.storage.rows import Row


def limit_state_from_row(row: Row) -> LimitState:
    """A limit from the columns of `SELECT_LIMITS`: kind, concurrency, rate count, rate seconds,
    declared by, declared at, running, tokens spent in the window, the oldest spent token."""
    rate = None if row[2] is None else Rate(int(row[2]), float(row[3]))
    spent = int(row[7] or 0)
    return LimitState(
        kind=row[0],
        concurrency=None if row[1] is None else int(row[1]),
        rate=rate,
        running=int(row[6]),
        tokens=None if rate is None else max(0, rate.count - spent),
        next_token_at=None if rate is None or row[8] is None else float(row[8]) + rate.seconds,
        declared_by=row[4],
        declared_at=float(row[5]),
    )


def in_scope(limited: Iterable[str], kinds: Sequence[str]) -> list[str]:
    """The limited kinds a claim of `kinds` (every kind when empty) may take jobs of."""
    wanted = set(kinds)
    return sorted(k for k in limited if not wanted or k in wanted)


def declared_rows(limits: Sequence[KindLimits]) -> tuple[list[KindLimits], list[str]]:
    """The kinds whose row a worker's declaration replaces, and those whose row it deletes."""
    return [lim for lim in limits if lim.limited], [lim.kind for lim in limits if not lim.limited]
