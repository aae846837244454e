"""A quick look at a SQLite database without the engine: the per-status counts `jobdeck status`
prints. Plain sqlite3, read-only, and no import of the contract models, so the command answers
in the time Python takes to start."""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote

from jobdeck.core.errors import StorageError
from jobdeck.storage.schema_version import LATEST
from jobdeck.storage.sqlite_errors import storage_error

STATUSES = ("queued", "running", "done", "failed")
# Jobs per status, from the counts table the writers keep exact.
SELECT_COUNTS = "SELECT status, n FROM counts"
USER_VERSION = "PRAGMA user_version"
_HEADER = b"SQLite format 3\x00"


def sqlite_counts(path: str, known_version: int = LATEST) -> dict[str, int]:
    """Jobs per status in the SQLite file at `path`; raises StorageError (one sentence)."""
    if path.startswith("sqlite:///"):
        path = path[len("sqlite:///") :]
    if not os.path.isfile(path):
        if os.path.isdir(path):
            raise StorageError(f"{path} is a directory, not a database file.")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StorageError(
                f"the folder {folder} does not exist; create it or choose another path."
            )
        raise StorageError(f"there is no database at {path}.")
    with open(path, "rb") as file:
        if file.read(len(_HEADER)) != _HEADER:
            raise StorageError(f"{path} is not a jobdeck database (it is not an SQLite file).")
    uri = f"file:{quote(os.path.abspath(path), safe='/')}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            version = int(conn.execute(USER_VERSION).fetchone()[0])
            if version > known_version:
                raise StorageError(
                    f"{path} was written by a newer jobdeck (schema {version}; this one knows "
                    f"{known_version}); upgrade jobdeck to open it."
                )
            if version == 0:
                raise StorageError(f"{path} is not a jobdeck database (it has no jobdeck tables).")
            found = dict(conn.execute(SELECT_COUNTS).fetchall())
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    return {status: int(found.get(status, 0)) for status in STATUSES}
