"""SQLite's errors as jobdeck sentences. A driver exception never leaves `jobdeck.storage`."""

from __future__ import annotations

import logging
import random
import sqlite3
from typing import Final

from jobdeck.core.errors import InvalidInput, StorageError

log = logging.getLogger("jobdeck.storage.sqlite.store")

LOCK_RETRIES: Final = 5
# Busy errors are retried for at most the busy timeout in all (SQLite's own handler already waits
# that long on a held lock), and for at least this long: some busy answers come back at once
# (a WAL snapshot or recovery) and a short retry wins them.
MIN_LOCK_WAIT: Final = 1.0

# Primary result codes (the low byte of an extended code), from sqlite3.h.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _CONSTRAINT, _NOTADB = (
    5,
    6,
    8,
    10,
    11,
    13,
    14,
    19,
    26,
)


def _code(exc: sqlite3.Error) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether another connection holds the lock this statement needed (worth retrying)."""
    if _code(exc) in (_BUSY, _LOCKED):
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "table is locked" in text


def storage_error(exc: sqlite3.Error, path: str) -> StorageError:
    """One sentence for a person about what went wrong with the database at `path`."""
    code = _code(exc)
    detail = str(exc).rstrip(".")
    if code == _NOTADB or "file is not a database" in detail:
        return StorageError(f"{path} is not a jobdeck database (it is not an SQLite file).")
    if code == _CANTOPEN:
        return StorageError(
            f"cannot open the database file {path}; check it exists and is readable."
        )
    if code == _READONLY:
        return StorageError(f"cannot write to {path}; the file or its folder is read-only.")
    if code == _CORRUPT:
        return StorageError(f"{path} is damaged ({detail}); restore it from a backup.")
    if code == _FULL:
        return StorageError(f"cannot write to {path}; the disk is full.")
    if code == _IOERR:
        return StorageError(f"a disk error stopped SQLite reading or writing {path} ({detail}).")
    if code == _CONSTRAINT:
        return StorageError(f"the database {path} refused a write ({detail}).")
    return StorageError(f"SQLite failed on {path} ({detail}).")


def not_storable(exc: OverflowError | UnicodeEncodeError) -> InvalidInput:
    """What sqlite3 cannot bind (an int past 64 bits, a lone surrogate) is bad input."""
    return InvalidInput(
        f"a value is out of the database's range or is not valid text ({type(exc).__name__})."
    )


def retry_pause(
    exc: sqlite3.Error, path: str, *, retry: int, retries: int, waited: float, lock_wait: float
) -> float:
    """Seconds to pause before running a failed call again while the database is busy, or the
    StorageError to raise: at once for anything but busy, and once the retries or the lock
    wait are spent. The async store and the synchronous client retry by this one rule."""
    if not is_busy(exc):
        raise storage_error(exc, path) from exc
    if retry >= retries or waited >= lock_wait:
        raise StorageError(
            f"the database {path} stayed locked for {waited:.1f} s; another "
            "process is holding a write transaction open."
        ) from exc
    log.info("%s is locked (%s); retry %d of %d", path, exc, retry + 1, retries)
    return 0.02 * float(2**retry) * random.uniform(0.5, 1.5)
