"""A quick look at a SQLite database without the engine: the per-status counts `jobdeck status`
prints. Plain sqlite3, read-only, and no import of the contract models, so the command answers
in the time Python takes to start."""

from __future__ import annotations

import sqlite3

from jobdeck.core.errors import StorageError
from jobdeck.storage import queries as q
from jobdeck.storage.schema_version import LATEST
from jobdeck.storage.sqlite_errors import storage_error
from jobdeck.storage.sqlite_files import check_path, read_only_uri, refuse_newer

STATUSES = ("queued", "running", "done", "failed")


def sqlite_counts(path: str, known_version: int = LATEST) -> dict[str, int]:
    """Jobs per status in the SQLite file at `path`; raises StorageError (one sentence)."""
    if path.startswith("sqlite:///"):
        path = path[len("sqlite:///") :]
    check_path(path, read_only=True, create=False)
    uri = read_only_uri(path)
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            version = int(conn.execute(q.USER_VERSION).fetchone()[0])
            refuse_newer(path, version, known_version)
            if version == 0:
                raise StorageError(f"{path} is not a jobdeck database (it has no jobdeck tables).")
            found = dict(conn.execute(q.SELECT_COUNTS).fetchall())
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    return {status: int(found.get(status, 0)) for status in STATUSES}
