"""The transition table is the only way a status changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.contract import (
    TRANSITIONS,
    Category,
    Claim,
    Deny,
    Fail,
    Job,
    Outcome,
    Reason,
    Release,
    Requeue,
    Status,
    Succeed,
    attempt_outcome,
    transition,
)
from jobdeck.core.errors import TransitionError

REASON = Reason(code="boom", message="It broke.", category=Category.TERMINAL)
LOST = Reason(code="lost_lease", message="Gone.", category=Category.LOST_LEASE, retryable=True)


def make(status: Status = Status.QUEUED, attempt: int = 0) -> Job:
    return Job(
        id="01J0000000000000000000000A",
        kind="demo.echo",
        payload={"a": 1},
        idempotency_key="k",
        status=status,
        attempt=attempt,
        created_at=1.0,
        updated_at=1.0,
        run_after=1.0,
        lease_owner="w" if status is Status.RUNNING else None,
        lease_expires_at=31.0 if status is Status.RUNNING else None,
    )


EVENTS = [
    Claim("w", 40.0, 10.0),
    Succeed({"ok": True}, 10.0),
    Fail(REASON, 10.0),
    Requeue(LOST, 12.0, 10.0),
    Release(10.0),
    Deny(REASON.model_copy(update={"category": Category.DENIED}), 10.0),
]


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_pair_is_legal_exactly_when_the_table_says_so(status: Status, event: object) -> None:
    job = make(status, attempt=1 if status is not Status.QUEUED else 0)
    target = TRANSITIONS.get((status, type(event)))
    if target is None:
        with pytest.raises(TransitionError):
            transition(job, event)  # type: ignore[arg-type]
    else:
        assert transition(job, event).status is target  # type: ignore[arg-type]


def test_finished_jobs_accept_no_event() -> None:
    for status in (Status.DONE, Status.FAILED):
        for event in EVENTS:
            with pytest.raises(TransitionError):
                transition(make(status, 1), event)  # type: ignore[arg-type]


def test_claim_counts_an_attempt_and_takes_a_lease() -> None:
    job = transition(make(), Claim("w1", 40.0, 10.0))
    assert (job.status, job.attempt, job.lease_owner, job.lease_expires_at) == (
        Status.RUNNING,
        1,
        "w1",
        40.0,
    )


def test_failure_sets_the_one_reason_and_drops_the_lease() -> None:
    job = transition(make(Status.RUNNING, 1), Fail(REASON, 11.0))
    assert job.reason == REASON and job.lease_owner is None and job.result is None


def test_requeue_keeps_the_attempt_count_and_schedules_the_retry() -> None:
    job = transition(make(Status.RUNNING, 2), Requeue(LOST, 15.0, 11.0))
    assert (job.status, job.attempt, job.run_after, job.reason) == (Status.QUEUED, 2, 15.0, None)
    assert attempt_outcome(Requeue(LOST, 15.0, 11.0)) is Outcome.LOST_LEASE


def test_release_hands_the_attempt_back() -> None:
    job = transition(make(Status.RUNNING, 2), Release(11.0))
    assert (job.status, job.attempt) == (Status.QUEUED, 1)


def test_jobs_are_frozen() -> None:
    with pytest.raises(ValueError):
        make().status = Status.DONE  # type: ignore[misc]


@given(st.lists(st.sampled_from(EVENTS), max_size=12))
def test_any_event_sequence_keeps_one_status_and_reason_only_when_failed(events: list) -> None:
    job = make()
    for event in events:
        try:
            job = transition(job, event)
        except TransitionError:
            continue
        assert (job.reason is not None) == (job.status is Status.FAILED)
        assert job.attempt >= 0
        assert (job.lease_owner is not None) == (job.status is Status.RUNNING)


def test_the_quick_read_path_knows_the_length_of_an_id() -> None:
    from jobdeck.core.ids import ID_LENGTH, new_id
    from jobdeck.storage.lookup import ID_LENGTH as LOOKUP_ID_LENGTH

    assert len(new_id()) == ID_LENGTH == LOOKUP_ID_LENGTH
