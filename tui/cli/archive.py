"""The JSON Lines file `prune --archive` writes: one line per pruned job, with its attempts,
steps and events, each as the contract's own model dumps it (`model_dump(mode="json")`: every
field, times as the epoch seconds stored), so a line holds exactly what the database held.

A new file is created owner-only (0600); an existing one is appended to and keeps its mode.
Each batch is written, flushed and fsynced before its ids go back to `Engine.prune`, which
deletes only those; a batch that cannot be written is cut off again and raises StorageError,
so the file never holds half a batch and nothing that is not in it is deleted.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from jobdeck.core.errors import InvalidInput, StorageError

if TYPE_CHECKING:
    from jobdeck.core.store import Record

MODE = 0o600
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def record_line(record: Record) -> str:
    """One archive line (ending in a newline). ASCII only (ensure_ascii), so no reader that
    splits on Unicode line breaks can cut a payload's text in two."""
    shaped: dict[str, Any] = {
        "job": record.job.model_dump(mode="json"),
        "attempts": [a.model_dump(mode="json") for a in record.attempts],
        "steps": [s.model_dump(mode="json") for s in record.steps],
        "events": [e.model_dump(mode="json") for e in record.events],
    }
    return json.dumps(shaped, separators=(",", ":"), allow_nan=False) + "\n"


class Archive:
    """An open archive file; `write` is the `archive` callback of `Engine.prune`."""

    def __init__(self, path: str, fd: int, created: bool) -> None:
        self.path = path
        self._fd = fd
        self._created = created
        self.jobs = 0  # records written and synced so far

    @classmethod
    def open(cls, path: str, *, database: Sequence[str] = ()) -> Archive:
        """Open `path` for appending, creating it 0600 when missing. Raises InvalidInput for a
        missing folder, a folder, something that is not a regular file, one of the `database`
        files (by inode: a symlink or hard link to one is refused too), or no permission, and
        StorageError for a full disk or another write error."""
        _refuse_database(path, database)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
        created = True
        try:
            try:
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, MODE)
            except FileExistsError:
                created = False
                # Read too: whether its last line was cut off (see _prepare).
                fd = os.open(path, flags & ~os.O_WRONLY | os.O_RDWR)
        except FileNotFoundError:
            raise InvalidInput(
                f"cannot create the archive {path}: its folder does not exist."
            ) from None
        except IsADirectoryError:
            raise InvalidInput(f"the archive {path} is a folder; name a file.") from None
        except PermissionError:
            raise InvalidInput(f"cannot write the archive {path}: permission denied.") from None
        except OSError as err:
            raise _write_error(path, err, 0) from None
        archive = cls(path, fd, created)
        try:
            archive._prepare()
        except BaseException:
            archive.close(failed=True)
            raise
        return archive

    def _prepare(self) -> None:
        """Refuse what is not a regular file; make a new file's name durable; start on a line
        of its own after an earlier line that was cut off."""
        info = os.fstat(self._fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"the archive {self.path} is not a regular file.")
        try:
            if self._created:
                folder = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
            elif info.st_size and os.pread(self._fd, 1, info.st_size - 1) != b"\n":
                self._append(b"\n")
        except OSError as err:
            raise _write_error(self.path, err, 0) from None

    def write(self, records: Sequence[Record]) -> list[str]:
        """Append one line per record and sync them; the ids written. Raises StorageError (and
        cuts the file back to where this batch began) when they cannot all be written."""
        data = "".join(record_line(r) for r in records).encode("ascii")
        start = os.fstat(self._fd).st_size
        try:
            self._append(data)
        except OSError as err:
            with suppress(OSError):  # if the lines stay, their jobs are still not deleted
                os.ftruncate(self._fd, start)
                os.fsync(self._fd)
            raise _write_error(self.path, err, self.jobs) from None
        self.jobs += len(records)
        return [r.job.id for r in records]

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)

    def close(self, *, failed: bool = False) -> None:
        """Close the file. After a failure, remove it when this run created it and wrote
        nothing to it (a prune that found nothing leaves its empty archive, as it said)."""
        empty = os.fstat(self._fd).st_size == 0
        os.close(self._fd)
        if failed and self._created and empty:
            with suppress(OSError):  # an empty archive left behind is harmless
                os.remove(self.path)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.close(failed=kind is not None)


def _refuse_database(path: str, database: Sequence[str]) -> None:
    """Raise InvalidInput when `path` is one of the `database` files. Compared without opening
    `path`: closing a descriptor of the database would drop SQLite's POSIX locks on it."""
    try:
        mine = os.stat(path)
    except OSError:
        return  # nothing there yet (or nothing reachable): it cannot be the database
    for name in database:
        with suppress(OSError):  # a side file that does not exist is no clash
            if os.path.samestat(mine, os.stat(name)):
                raise InvalidInput(
                    f"the archive {path} is the database {database[0]} itself or one of its "
                    "-wal, -shm and -journal files; archive to another path."
                )


def _write_error(path: str, err: OSError, written: int) -> StorageError:
    why = "the disk is full" if err.errno in _FULL else (err.strerror or str(err)).lower()
    jobs = "1 job was" if written == 1 else f"{written} jobs were"
    kept = f"{jobs} archived before it, and " if written else ""
    return StorageError(
        f"cannot write the archive {path}: {why}; {kept}nothing that is not in it was deleted."
    )
