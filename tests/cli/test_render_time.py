"""Timestamps print as datetime itself would print them, to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from jobdeck.tui.render import iso


@given(st.floats(min_value=0, max_value=4e9) | st.integers(0, 4 * 10**9).map(lambda s: s + 0.9995))
def test_iso_matches_datetime(ts: float) -> None:
    expected = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    assert iso(ts) == expected.replace("+00:00", "Z")


def test_iso_of_nothing_is_none() -> None:
    assert iso(None) is None
