"""A quick look at a SQLite database without the engine: what `status`, `list`, `show` and
`events` print, read with plain sqlite3 on a read-only connection. Nothing here imports pydantic,
the contract models or asyncio, so those commands answer in about the time Python takes to start.

The values are plain rows named as the contract names them (`Job`, `Reason`, `Attempt`, `Event`,
`Step`), with statuses and categories as their text; `jobdeck.tui.render` prints these and the
contract's models alike. What `show` derives (the retry explanation, rerun verdicts, a step's
owed compensation) comes from jobdeck.core.derived, which the engine uses too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

from jobdeck.core.derived import (
    RetryExplanation,
    compensation_state,
    explain,
    pruned_sentence,
    rerun_changes,
)
from jobdeck.core.errors import NotFound, StorageError
from jobdeck.storage import lookup
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite import reads
from jobdeck.storage.sqlite.errors import storage_error
from jobdeck.storage.sqlite.files import MEMORY, check_path, read_only_uri, refuse_newer
from jobdeck.storage.sqlite.schema_version import LATEST

if TYPE_CHECKING:  # `stats` alone needs the rollup's types, and imports them when it runs
    from jobdeck.core.system import KindStats

Row = tuple[Any, ...]
T = TypeVar("T")

STATUSES: Final = ("queued", "running", "done", "failed")
BUSY_MS: Final = 5000
LINEAGE_LIMIT: Final = 200


class Reason(NamedTuple):
    code: str
    message: str
    category: str
    gate: str | None
    retryable: bool
    evidence: dict[str, Any]


class Job(NamedTuple):
    """A job in the column order of `queries.JOB_COLUMNS`, its JSON columns decoded."""

    id: str
    kind: str
    payload: dict[str, Any]
    status: str
    attempt: int
    max_attempts: int
    reason: Reason | None
    result: Any
    idempotency_key: str
    rerun_of: str | None
    created_at: float
    updated_at: float
    run_after: float
    lease_owner: str | None
    lease_expires_at: float | None
    priority: int
    trace_context: str | None


class Attempt(NamedTuple):
    """An attempt in the column order of `queries.ATTEMPT_COLUMNS`."""

    job_id: str
    n: int
    started_at: float
    finished_at: float | None
    outcome: str
    reason: Reason | None
    worker: str | None


class Event(NamedTuple):
    """An event in the column order of `queries.EVENT_COLUMNS`."""

    cursor: int
    job_id: str
    from_status: str | None
    to_status: str
    attempt: int
    reason_code: str | None
    at: float
    step: str | None


class Action(NamedTuple):
    """A row of the operator trail in the column order of `queries.SELECT_ACTIONS`."""

    id: int
    at: float
    actor: str
    action: str
    target: str
    reason: str | None
    after_cursor: int


class Step(NamedTuple):
    """The fields of a step row that `show` prints."""

    name: str
    status: str
    result: Any
    attempt: int
    reason: Reason | None
    compensable: bool
    compensation: str | None
    compensation_attempts: int
    compensation_reason: Reason | None

    def compensation_state(self, job_status: str) -> str | None:
        return compensation_state(
            compensation=self.compensation,
            compensable=self.compensable,
            step_status=self.status,
            job_status=job_status,
        )


class Report(NamedTuple):
    """The part of a rerun's `RerunReport` that `show` prints."""

    verdict: str


class Lineage(NamedTuple):
    """engine.LineageNode: a job in a rerun tree, its verdict against its parent, its reruns,
    and (the root only) whether it is a rerun whose original retention pruned."""

    job: Job
    verdict: Report | None
    reruns: list[Lineage]
    original_pruned: bool = False


class Detail(NamedTuple):
    """What `show` prints of one job (the fields of engine.JobDetail it reads)."""

    job: Job
    attempts: list[Attempt]
    steps: list[Step]
    retry: RetryExplanation
    lineage: Lineage

    @property
    def explanation(self) -> str:
        return self.retry.sentence


def sqlite_counts(path: str, known_version: int = LATEST) -> dict[str, int]:
    """Jobs per status in the SQLite file at `path`; raises StorageError (one sentence)."""
    path = _file(path)
    conn, version = _connect(path, known_version)
    try:
        if version == 0:
            raise StorageError(f"{path} is not a jobdeck database (it has no jobdeck tables).")
        return Peek(conn, path).counts()
    finally:
        conn.close()


class Peek:
    """A read-only connection to a jobdeck SQLite file at the schema this jobdeck writes. Every
    method raises StorageError (one sentence) for database trouble."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str, known_version: int = LATEST) -> Peek | None:
        """Open the file at `path` (a file path or a `sqlite:///` URL) read-only, or answer None
        when the store must open it itself: no file path (empty, or in-memory), or a schema
        other than `known_version` (the store migrates an older one and creates one in an empty
        file). Raises StorageError for a file that cannot be a jobdeck database."""
        path = _file(path)
        if path in ("", MEMORY):
            return None
        conn, version = _connect(path, known_version)
        if version != known_version:
            conn.close()
            return None
        return cls(conn, path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Peek:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        return self._read(lambda conn: conn.execute(sql, params).fetchall())

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._conn)
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc

    # -- what the store reads --------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        found: dict[str, int] = dict(self._rows(q.SELECT_COUNTS))
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def kind_stats(self, *, now: float, window: float, kind: str | None = None) -> list[KindStats]:
        """Engine.kind_stats, read with the store's own three queries on this connection (no
        event loop, no thread: the read is most of what `stats` costs). Raises InvalidInput for
        a window `stats_edges` refuses."""
        from jobdeck.core.system import kind_stats, stats_edges
        from jobdeck.storage.system import kind_counts_from, oldest_from, rollup_from_row

        params = {"edges": json.dumps(stats_edges(now, window)), "kind": kind}
        rows = [rollup_from_row(row) for row in self._rows(q.SUM_ROLLUP_PER_KIND, params)]
        counts = kind_counts_from(self._rows(q.SELECT_KIND_COUNTS))
        oldest = oldest_from(self._rows(q.SELECT_OLDEST_QUEUED))
        return kind_stats(rows, counts, oldest, now=now, since=now - window, kind=kind)

    def page(self, status: str, *, limit: int, kind: str | None = None) -> list[Job]:
        """The newest `limit` jobs of one status (of one kind), as SqliteStore.page reads them."""
        params = {"status": status, "after": lookup.ID_MAX, "kind": kind, "pattern": None}
        return [_job(row) for row in self._rows(q.PAGE_NEWEST, params | {"limit": limit})]

    def scheduled(self, now: float, limit: int) -> list[Job]:
        """Queued jobs not yet due at `now`, soonest first, as SqliteStore.scheduled reads them."""
        return [_job(row) for row in self._read(lambda conn: reads.scheduled(conn, now, limit))]

    def events(self, since: int, limit: int) -> list[Event]:
        return [Event._make(row) for row in self._rows(q.SELECT_EVENTS, (since, limit))]

    def actions(self, *, after_id: int, since: int, limit: int) -> list[Action]:
        """The operator trail, as SqliteStore.actions reads it."""
        params = {"after_id": after_id, "since": since, "limit": limit}
        return [Action._make(row) for row in self._rows(q.SELECT_ACTIONS, params)]

    def get(self, job_id: str) -> Job:
        rows = self._rows(q.SELECT_JOB, (job_id,))
        if not rows:
            raise NotFound(f"no job with id {job_id}.")
        return _job(rows[0])

    def find(self, text: str) -> Job:
        """SqliteStore.find: the job whose id is `text`, or the one job whose id starts or ends
        with it (at least four characters). Raises NotFound, or InvalidInput when it is short or
        ambiguous."""
        lookup.check_fragment(text)
        found = self._read(lambda conn: lookup.find_row(conn, text))
        if isinstance(found, tuple):
            return _job(found)
        try:
            lookup.not_one(text, found)
        except NotFound:
            at = self._pruned_at(text) if len(text) == lookup.ID_LENGTH else None
            if at is None:
                raise
            raise NotFound(pruned_sentence(text, at)) from None

    def _pruned_at(self, job_id: str) -> float | None:
        """SqliteStore.pruned_at (None on a file from before retention existed)."""
        try:
            rows = self._rows(q.SELECT_PRUNED_AT, (job_id,))
        except StorageError:
            return None
        return None if not rows else float(rows[0][0])

    def attempts(self, job_id: str) -> list[Attempt]:
        return [_attempt(row) for row in self._rows(q.SELECT_ATTEMPTS, (job_id,))]

    def steps(self, job_id: str) -> list[Step]:
        return [_step(row) for row in self._rows(q.SELECT_STEPS, (job_id,))]

    def reruns(self, job_id: str) -> list[Job]:
        return [_job(row) for row in self._rows(q.SELECT_RERUNS, (job_id,))]

    # -- what the engine derives -----------------------------------------------------------------
    def detail(self, text: str, now: float) -> Detail:
        """Engine.detail: the job `text` names (see `find`), its attempts, steps, retry
        explanation at `now` and rerun lineage."""
        job = self.find(text)
        attempts = self.attempts(job.id)
        return Detail(
            job, attempts, self.steps(job.id), explain(job, attempts, now), self.lineage(job)
        )

    def lineage(self, job: Job, *, limit: int = LINEAGE_LIMIT) -> Lineage:
        """Engine.lineage: the rerun tree `job` belongs to, from its first original down (at
        most `limit` jobs)."""
        root, pruned = job, False
        for _ in range(limit):
            if root.rerun_of is None:
                break
            try:
                root = self.get(root.rerun_of)
            except NotFound:  # retention pruned the original: the tree starts here
                pruned = True
                break
        seen = 0

        def grow(node: Job, parent: Job | None) -> Lineage:
            nonlocal seen
            seen += 1
            children = []
            for child in self.reruns(node.id):
                if seen >= limit:
                    break
                children.append(grow(child, node))
            return Lineage(node, _verdict(parent, node) if parent else None, children)

        tree = grow(root, None)
        return tree._replace(original_pruned=True) if pruned else tree


def _verdict(original: Job, rerun: Job) -> Report | None:
    changes = rerun_changes(original, rerun)
    if changes is None:
        return None
    return Report("diverged" if changes else "idempotent")


# -- rows ----------------------------------------------------------------------------------------
def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _reason(text: str | None) -> Reason | None:
    if text is None:
        return None
    fields = json.loads(text)
    return Reason(
        fields["code"],
        fields["message"],
        fields["category"],
        fields.get("gate"),
        fields.get("retryable", False),
        fields.get("evidence", {}),
    )


def _job(row: Row) -> Job:
    # The three JSON columns decoded, the rest as stored.
    return Job._make(
        (*row[:2], json.loads(row[2]), *row[3:6], _reason(row[6]), _json(row[7]), *row[8:])
    )


def _attempt(row: Row) -> Attempt:
    return Attempt._make((*row[:5], _reason(row[5]), row[6]))


def _step(row: Row) -> Step:
    (
        _,
        name,
        _,
        status,
        result,
        attempt,
        reason,
        compensable,
        compensation,
        tries,
        undo_reason,
        _,
    ) = row
    return Step(
        name,
        status,
        _json(result),
        attempt,
        _reason(reason),
        bool(compensable),
        compensation,
        tries,
        _reason(undo_reason),
    )


# -- opening ---------------------------------------------------------------------------------------
def _file(path: str) -> str:
    return path[len("sqlite:///") :] if path.startswith("sqlite:///") else path


def _connect(path: str, known_version: int) -> tuple[sqlite3.Connection, int]:
    """A read-only connection to the file at `path` and its schema version, refusing a schema
    newer than `known_version`; raises StorageError (one sentence)."""
    check_path(path, read_only=True, create=False)
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
        try:
            conn.execute(q.SET_BUSY_TIMEOUT.format(ms=BUSY_MS))
            version = int(conn.execute(q.USER_VERSION).fetchone()[0])
            refuse_newer(path, version, known_version)
        except BaseException:
            conn.close()
            raise
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    return conn, version
