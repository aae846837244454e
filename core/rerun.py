"""Rerun verdicts: did running the same input again give the same outcome?"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, JsonValue

from jobdeck.core.contract import Job, Status
from jobdeck.core.derived import diff, rerun_changes


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


def verdict(original: Job, rerun: Job) -> RerunReport | None:
    """Compare a finished job with its finished rerun; None while either is still live.

    Idempotent means the same status and an equal result, or for failures the same reason code.
    """
    changes = rerun_changes(original, rerun)
    if changes is None:
        return None
    return RerunReport(
        id=rerun.id,
        rerun_of=original.id,
        status=rerun.status,
        verdict=Verdict.DIVERGED if changes else Verdict.IDEMPOTENT,
        diff=changes,
    )


__all__ = ["RerunReport", "Verdict", "diff", "verdict"]
