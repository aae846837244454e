"""SQLite's errors as jobdeck sentences. A driver exception never leaves `jobdeck.storage`."""

from __future__ import annotations

import sqlite3

from jobdeck.core.errors import StorageError

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
