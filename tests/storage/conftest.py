"""Storage tests run on real SQLite files in tmp_path, with a fixed clock and ids f"{i:026d}"."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobdeck.core.contract import (
    Category,
    Job,
    Reason,
    Status,
    TransitionEvent,
    attempt_outcome,
    event_reason,
    transition,
)
from jobdeck.core.store import Change
from jobdeck.storage import SqliteStore, open_store

T0 = 1_700_000_000.0
NOW = T0 + 10


def make_job(
    i: int,
    *,
    kind: str = "email",
    key: str | None = None,
    status: Status = Status.QUEUED,
    reason: Reason | None = None,
    rerun_of: str | None = None,
    run_after: float = T0,
    payload: dict[str, object] | None = None,
) -> Job:
    return Job.model_validate(
        {
            "id": f"{i:026d}",
            "kind": kind,
            "payload": {"n": i} if payload is None else payload,
            "status": status,
            "reason": reason,
            "idempotency_key": f"key-{i}" if key is None else key,
            "rerun_of": rerun_of,
            "created_at": T0,
            "updated_at": T0,
            "run_after": run_after,
        }
    )


def make_reason(code: str = "boom", category: Category = Category.TERMINAL) -> Reason:
    return Reason(code=code, message=f"{code} happened", category=category)


def denied(i: int, code: str = "too_big", **kw: object) -> Job:
    reason = make_reason(code, Category.DENIED)
    return make_job(i, status=Status.FAILED, reason=reason, **kw)  # type: ignore[arg-type]


def change(job: Job, event: TransitionEvent) -> Change:
    """The Change a worker would apply for `event`."""
    return Change(job, transition(job, event), attempt_outcome(event), event_reason(event))


def exists(path: str) -> bool:
    return os.path.exists(path)


def size(path: str) -> int:
    return os.path.getsize(path)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "jobs.db")


@pytest.fixture
async def store(db_path: str) -> AsyncIterator[SqliteStore]:
    s = await open_store(db_path)
    yield s
    await s.close()
