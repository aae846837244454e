"""Classification, backoff bounds and the retry decision."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.contract import Category, Fault, Job
from jobdeck.core.retry import (
    Backoff,
    Policy,
    Retryable,
    Terminal,
    classify,
    decide,
    injected,
    lost_lease,
)


def running(attempt: int, max_attempts: int = 3) -> Job:
    return Job(
        id="J",
        kind="k",
        payload={},
        idempotency_key="k",
        status="running",
        attempt=attempt,
        max_attempts=max_attempts,
        created_at=0,
        updated_at=0,
        run_after=0,
        lease_owner="w",
        lease_expires_at=30,
    )


@pytest.mark.parametrize(
    ("exc", "retryable", "code"),
    [
        (Retryable("try later", code="busy"), True, "busy"),
        (Terminal("never", code="bad_card"), False, "bad_card"),
        (TypeError("x"), False, "type_error"),
        (KeyError("x"), False, "key_error"),
        (ConnectionError("x"), True, "connection_error"),
        (TimeoutError("x"), True, "timeout_error"),
        (OSError("x"), True, "o_s_error"),
        (RuntimeError("x"), False, "runtime_error"),
    ],
)
def test_default_policy_classifies(exc: Exception, retryable: bool, code: str) -> None:
    failure = classify(exc)
    assert (failure.retryable, failure.code) == (retryable, code)
    assert failure.evidence["exception"] == type(exc).__name__


def test_policy_is_configurable() -> None:
    assert classify(RuntimeError("x"), Policy(unknown_is_retryable=True)).retryable


def test_terminal_is_never_retried_even_with_attempts_left() -> None:
    d = decide(
        running(1, 10), classify(Terminal("no")), now=0, backoff=Backoff(), rng=random.Random(1)
    )
    assert not d.retry and d.reason.category is Category.TERMINAL


def test_retryable_is_retried_until_attempts_run_out() -> None:
    rng = random.Random(1)
    failure = classify(Retryable("later", code="busy"))
    assert decide(running(2, 3), failure, now=0, backoff=Backoff(), rng=rng).retry
    final = decide(running(3, 3), failure, now=0, backoff=Backoff(), rng=rng)
    assert not final.retry
    assert final.reason.code == "retries_exhausted"
    assert final.reason.category is Category.RETRIES_EXHAUSTED
    assert final.reason.evidence["last_code"] == "busy"


def test_injected_faults_stay_tagged_injected() -> None:
    fault = Fault(id=7, job_id="J", retryable=False, reason="operator says no")
    d = decide(running(1), injected(fault), now=0, backoff=Backoff(), rng=random.Random(1))
    assert d.reason.category is Category.INJECTED and d.reason.message == "operator says no"


def test_lost_lease_requeues_then_fails_when_attempts_are_spent() -> None:
    assert lost_lease(running(1), now=0, backoff=Backoff(), rng=random.Random()).retry
    final = lost_lease(running(3), now=0, backoff=Backoff(), rng=random.Random())
    assert not final.retry and final.reason.category is Category.LOST_LEASE


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.001, max_value=10),
    cap=st.floats(min_value=0.001, max_value=3600),
    seed=st.integers(),
)
def test_full_jitter_backoff_stays_within_its_ceiling(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    b = Backoff(base, cap)
    delay = b.delay(attempt, random.Random(seed))
    assert 0 <= delay <= min(cap, base * 2 ** (attempt - 1)) <= cap


def test_backoff_ceiling_doubles() -> None:
    b = Backoff(1, 100)
    assert [b.ceiling(n) for n in (1, 2, 3, 8)] == [1, 2, 4, 100]
