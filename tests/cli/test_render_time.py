"""Timestamps print as datetime itself would print them, to the millisecond, and an event's JSON
line is what the JSON encoder would write."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from jobdeck.storage.sqlite import peek
from jobdeck.tui.render import dumps, event_json_line, iso


@given(st.floats(min_value=0, max_value=4e9) | st.integers(0, 4 * 10**9).map(lambda s: s + 0.9995))
def test_iso_matches_datetime(ts: float) -> None:
    expected = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    assert iso(ts) == expected.replace("+00:00", "Z")


def test_iso_of_nothing_is_none() -> None:
    assert iso(None) is None


texts = st.text(st.characters(exclude_categories=()), max_size=12)


@given(
    cursor=st.integers(1, 2**62),
    job_id=texts,
    from_status=st.none() | st.sampled_from(["queued", "running", "done", "failed"]),
    to_status=st.sampled_from(["queued", "running", "done", "failed"]),
    attempt=st.integers(0, 1000),
    reason_code=st.none() | texts,
    at=st.floats(0, 4e9),
    step=st.none() | texts,
)
def test_an_event_line_is_the_encoders_json(
    cursor: int,
    job_id: str,
    from_status: str | None,
    to_status: str,
    attempt: int,
    reason_code: str | None,
    at: float,
    step: str | None,
) -> None:
    event = peek.Event(cursor, job_id, from_status, to_status, attempt, reason_code, at, step)
    shaped = {
        "cursor": cursor,
        "job_id": job_id,
        "from": from_status,
        "to": to_status,
        "attempt": attempt,
        "reason_code": reason_code,
        "at": iso(at),
    }
    if step is not None:
        shaped["step"] = step
    assert event_json_line(event) == dumps(shaped)
    assert json.loads(event_json_line(event))["job_id"] == job_id
