"""Rerun verdicts: did running the same input again give the same outcome?"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue

from jobdeck.core.contract import Job, Status


class Verdict(StrEnum):
    IDEMPOTENT = "idempotent"
    DIVERGED = "diverged"


class RerunReport(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    rerun_of: str
    status: Status
    verdict: Verdict
    diff: dict[str, JsonValue]


def diff(a: JsonValue, b: JsonValue, path: str = "$") -> dict[str, JsonValue]:
    """Paths where two JSON values differ, each with both sides: {"$.x": {"was": 1, "now": 2}}."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, JsonValue] = {}
        for key in sorted(set(a) | set(b)):
            out |= diff(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out |= diff(x, y, f"{path}[{i}]")
        return out
    if a == b and type(a) is type(b):
        return {}
    return {path: {"was": a, "now": b}}


def verdict(original: Job, rerun: Job) -> RerunReport | None:
    """Compare a finished job with its finished rerun; None while either is still live.

    Idempotent means the same status and an equal result, or for failures the same reason code.
    """
    if not (original.status.finished and rerun.status.finished):
        return None
    before: dict[str, Any] = {"status": original.status.value}
    after: dict[str, Any] = {"status": rerun.status.value}
    if original.status is Status.FAILED and rerun.status is Status.FAILED:
        before["reason_code"] = original.reason.code if original.reason else None
        after["reason_code"] = rerun.reason.code if rerun.reason else None
    else:
        before["result"] = original.result
        after["result"] = rerun.result
    changes = diff(before, after)
    return RerunReport(
        id=rerun.id,
        rerun_of=original.id,
        status=rerun.status,
        verdict=Verdict.DIVERGED if changes else Verdict.IDEMPOTENT,
        diff=changes,
    )
