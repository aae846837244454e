"""The pure rules of operator control: the cancelled reason, who acts, the reason text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.contract import TRANSITIONS, Category, Deny, Job, Status, transition
from jobdeck.core.control import actor, cancel_reason, check_kind_name, operator_text
from jobdeck.core.errors import InvalidInput


def test_a_cancel_reason_names_who_when_why_and_whether_it_ran() -> None:
    reason = cancel_reason(actor="ops", at=12.5, text="sent twice", was_running=True)
    assert (reason.code, reason.category, reason.retryable) == (
        "cancelled",
        Category.CANCELLED,
        False,
    )
    assert reason.message == "Cancelled by ops while it ran: sent twice"
    assert reason.evidence == {"by": "ops", "at": 12.5, "reason": "sent twice", "running": True}
    quiet = cancel_reason(actor="ops", at=1.0, text=None, was_running=False)
    assert quiet.message == "Cancelled by ops before it ran."


def test_cancel_adds_a_category_not_a_status_or_a_transition() -> None:
    assert set(Status) == {Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED}
    assert len(TRANSITIONS) == 6
    job = Job(id="j1", kind="k", payload={}, idempotency_key="x", created_at=0, updated_at=0,
              run_after=0)  # fmt: skip
    reason = cancel_reason(actor="ops", at=1.0, text=None, was_running=False)
    after = transition(job, Deny(reason, 1.0))
    assert after.status is Status.FAILED and after.reason == reason


@pytest.mark.parametrize("text", ["two\nlines", "tab\there", "x" * 501, "bell\x07", "del\x7f"])
def test_an_operator_reason_is_one_short_line(text: str) -> None:
    with pytest.raises(InvalidInput, match="one line"):
        operator_text(text)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x10FFFF,
                                      exclude_characters="\x7f"), max_size=500))  # fmt: skip
def test_any_printable_line_is_a_reason_stripped_or_none(text: str) -> None:
    assert operator_text(text) == (text.strip() or None)


def test_who_acts_is_by_or_user_at_host() -> None:
    assert actor("alice") == "alice"
    assert "@" in actor(None)
    for bad in ("", "   ", "a\nb", "x" * 101):
        with pytest.raises(InvalidInput, match="--by"):
            actor(bad)


def test_a_kind_name_is_not_empty() -> None:
    for bad in ("", "  ", "a\nb"):
        with pytest.raises(InvalidInput):
            check_kind_name(bad)
    assert check_kind_name("demo.echo") == "demo.echo"
