"""A handler's result is recorded as plain JSON: the fast path for small plain values must give
exactly what the JSON round trip gives, and refuse exactly what it refuses."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobdeck.core.retry import Terminal
from jobdeck.core.worker import to_json

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=40)
        | st.dictionaries(st.text() | st.integers(), inner, max_size=40)
        | st.tuples(inner, inner)
    ),
    max_leaves=60,
)


@settings(max_examples=500)
@given(values)
def test_to_json_equals_the_json_round_trip(value: Any) -> None:
    try:
        expected = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        try:
            to_json(value)
        except Terminal:
            return
        raise AssertionError(f"{value!r} is not JSON but was accepted") from None
    got = to_json(value)
    assert json.dumps(got) == json.dumps(expected)


def test_the_recorded_result_is_a_copy() -> None:
    result: dict[str, Any] = {"items": [1, 2]}
    recorded = to_json(result)
    result["items"].append(3)
    assert recorded == {"items": [1, 2]}
