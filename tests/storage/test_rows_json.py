"""JSON columns decode to exactly what `json.loads` gives, through the faster parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobdeck.storage.rows import decode_json, encode_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8"))
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(values)
def test_a_column_decodes_to_what_json_loads_gives(value: object) -> None:
    text = encode_json(value)
    # repr tells 1 from 1.0 from True, and keeps key order: the same values, the same types
    assert repr(decode_json(text)) == repr(json.loads(text))


@given(st.text())
def test_text_written_by_another_program_decodes_the_same(text: str) -> None:
    raw = json.dumps(text)  # ASCII escapes, as json.dumps writes them by default
    assert decode_json(raw) == json.loads(raw)


def test_a_lone_surrogate_escape_is_kept_as_json_loads_keeps_it() -> None:
    assert decode_json('{"a": "\\ud800x"}') == {"a": "\ud800x"}


def test_text_that_is_not_json_raises_as_json_loads_does() -> None:
    with pytest.raises(json.JSONDecodeError):
        decode_json("{not json")
