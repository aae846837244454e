"""Rerun verdicts compare outcomes, not ids or timestamps."""

from __future__ import annotations

from jobdeck.core.contract import Category, Job, Reason
from jobdeck.core.rerun import Verdict, diff, verdict


def finished(id_: str, status: str, result: object = None, code: str | None = None) -> Job:
    reason = Reason(code=code, message="m", category=Category.TERMINAL) if code else None
    return Job(
        id=id_,
        kind="k",
        payload={},
        idempotency_key="k",
        status=status,
        attempt=1,
        result=result,
        reason=reason,
        created_at=0,
        updated_at=0,
        run_after=0,
    )


def test_equal_results_are_idempotent() -> None:
    r = verdict(finished("a", "done", {"x": 1}), finished("b", "done", {"x": 1}))
    assert r is not None and r.verdict is Verdict.IDEMPOTENT and r.diff == {}


def test_different_results_diverge_with_a_path_diff() -> None:
    r = verdict(finished("a", "done", {"x": 1, "y": 2}), finished("b", "done", {"x": 9, "y": 2}))
    assert r is not None and r.verdict is Verdict.DIVERGED
    assert r.diff == {"$.result.x": {"was": 1, "now": 9}}


def test_same_reason_code_is_idempotent_for_failures() -> None:
    r = verdict(finished("a", "failed", code="boom"), finished("b", "failed", code="boom"))
    assert r is not None and r.verdict is Verdict.IDEMPOTENT


def test_status_change_diverges() -> None:
    r = verdict(finished("a", "done", 1), finished("b", "failed", code="boom"))
    assert r is not None and r.verdict is Verdict.DIVERGED and "$.status" in r.diff


def test_no_verdict_while_a_job_is_live() -> None:
    live = finished("b", "queued")
    assert verdict(finished("a", "done"), live) is None


def test_diff_tells_true_from_one() -> None:
    assert diff(True, 1) == {"$": {"was": True, "now": 1}}
