"""Bad payloads are refused before any gate or store sees them."""

from __future__ import annotations

import pytest

from jobdeck.core.engine import MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH, check_payload, default_key
from jobdeck.core.errors import InvalidInput


@pytest.mark.parametrize("value", [[], "x", 1, None, True, 1.5])
def test_non_objects_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        check_payload(value)


def test_oversized_payload_is_refused_with_the_limit() -> None:
    with pytest.raises(InvalidInput, match=f"{MAX_PAYLOAD_BYTES:,}"):
        check_payload({"x": "a" * MAX_PAYLOAD_BYTES})


def test_deep_nesting_is_refused() -> None:
    payload: dict = {}
    node = payload
    for _ in range(MAX_PAYLOAD_DEPTH + 1):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidInput, match="nests deeper"):
        check_payload(payload)


def test_nul_and_lone_surrogates_are_refused() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        check_payload({"x": "a\x00b"})
    with pytest.raises(InvalidInput, match="UTF-8"):
        check_payload({"x": "\ud800"})


def test_default_key_ignores_key_order() -> None:
    assert default_key("k", {"a": 1, "b": 2}) == default_key("k", {"b": 2, "a": 1})
    assert default_key("k", {"a": 1}) != default_key("other", {"a": 1})
