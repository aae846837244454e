"""What every backend refuses before it touches its database, and the dedupe rule every backend's
insert applies: written once here so SQLite and PostgreSQL cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeVar

from jobdeck.core.contract import TRANSITIONS, Job, Status
from jobdeck.core.errors import InvalidInput, TransitionError
from jobdeck.core.store import Change

T = TypeVar("T")

LEGAL: Final = frozenset((src, dst) for (src, _), dst in TRANSITIONS.items())
NEW_STATUSES: Final = (Status.QUEUED, Status.FAILED)


def new_jobs(jobs: Sequence[Job]) -> None:
    """A job to insert is queued, or failed by a denial."""
    for job in jobs:
        if job.status not in NEW_STATUSES:
            raise InvalidInput(
                f"job {job.id} is {job.status.value}; a new job is queued or failed."
            )


def new_rerun(job: Job) -> None:
    if job.rerun_of is None or job.status not in NEW_STATUSES:
        raise InvalidInput(f"job {job.id} is not a new rerun.")


def changes(batch: Sequence[Change]) -> None:
    """Each change keeps its job id and follows an arrow of the transition table."""
    for change in batch:
        before, after = change.before, change.after
        if before.id != after.id:
            raise InvalidInput(f"a change must keep its job id ({before.id} became {after.id}).")
        if (before.status, after.status) not in LEGAL:
            raise TransitionError(
                f"job {before.id} cannot go from {before.status.value} to {after.status.value}."
            )


def page_args(limit: int, text: str | None) -> bool:
    """Refuse a page of no rows; returns False when `text` can match no job at all (a NUL: no
    job holds one, and LIKE would stop reading the pattern there)."""
    if limit < 1:
        raise InvalidInput(f"a page holds at least one job, not {limit}.")
    return not (text and "\x00" in text)


def dedupe(jobs: Sequence[Job], held: Mapping[str, T]) -> tuple[list[Job | T], list[Job]]:
    """Resolve idempotency keys: each input maps to the live or done job already holding its key
    (`held`, read by the caller), or to itself and is inserted. A rerun ignores keys; an earlier
    job of the same batch holds its key for the later ones. Returns (one result per input, the
    jobs to insert)."""
    holders: dict[str, Job | T] = dict(held)
    stored: list[Job | T] = []
    new: list[Job] = []
    for job in jobs:
        if job.rerun_of is None:
            existing = holders.get(job.idempotency_key)
            if existing is not None:
                stored.append(existing)
                continue
            if job.status is not Status.FAILED:
                holders[job.idempotency_key] = job
        stored.append(job)
        new.append(job)
    return stored, new


def prune_cutoffs(cutoffs: Mapping[Status, float]) -> dict[str, float]:
    """Cutoffs keyed by status text; raises InvalidInput for a status that is not finished (a
    queued or running job is never pruned)."""
    if any(not Status(status).finished for status in cutoffs):
        raise InvalidInput("only done and failed jobs can be pruned.")
    return {Status(status).value: float(before) for status, before in cutoffs.items()}
