"""The SQLite file as a whole rather than the jobs in it: an online backup taken while workers
write, VACUUM, and the bytes the file takes. Plain sqlite3 on connections of their own (no
aiosqlite, no engine): each runs once per command, and the few statements it needs are named here.

Every function raises StorageError (one sentence) for database or disk trouble and InvalidInput
for a backup path that cannot be used; no sqlite3 or OS error leaves this module.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
import time
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import Final

from jobdeck.core.errors import InvalidInput, StorageError
from jobdeck.storage.sqlite import queries as q
from jobdeck.storage.sqlite.errors import is_busy, storage_error
from jobdeck.storage.sqlite.files import MEMORY, check_path, read_only_uri, refuse_newer
from jobdeck.storage.sqlite.schema_version import LATEST

# Pages copied per backup step: 4 MiB at SQLite's default page size.
PAGES_PER_STEP: Final = 1024
# Seconds between steps should the copy find its target busy (nothing else opens it).
STEP_PAUSE: Final = 0.01
BUSY_TIMEOUT: Final = 5.0
SQLITE_URL: Final = "sqlite:///"
# The files SQLite keeps beside a database; each belongs to it.
SIDE_FILES: Final = ("-wal", "-shm", "-journal")
# Side files that SQLite would replay into a new file of the same name: a backup never lands
# beside one.
REPLAYED_SIDE_FILES: Final = ("-wal", "-journal")

# -- statements ------------------------------------------------------------------------------------

# Open a read transaction and hold it while the backup runs: every step then reads the same
# snapshot while writers go on appending to the WAL. Without it, each commit another process
# makes restarts the copy from its first page (a busy database would never finish).
BEGIN_READ: Final = "BEGIN"
READ_SNAPSHOT: Final = "SELECT count(*) FROM sqlite_master"
END_READ: Final = "COMMIT"
# The copy as one self-contained file, with no -wal beside it (the next writer turns WAL back on).
ROLLBACK_JOURNAL: Final = "PRAGMA journal_mode = DELETE"
# Every page and record of the copy is readable (`integrity_check` also checks each index entry).
QUICK_CHECK: Final = "PRAGMA quick_check"
# Copy every committed WAL page into the main file and empty the WAL (waits out readers for up
# to the busy timeout; answers busy = 1 when one held it longer).
CHECKPOINT_TRUNCATE: Final = "PRAGMA wal_checkpoint(TRUNCATE)"
# Rebuild the file without its free pages.
VACUUM: Final = "VACUUM"


@dataclass(frozen=True, slots=True)
class Backup:
    """What `backup` wrote: a copy of `database` at `file`, its jobs per status, its size."""

    database: str
    file: str
    counts: dict[str, int]
    bytes: int
    seconds: float

    @property
    def jobs(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Vacuumed:
    """The file's size (main file plus WAL after a TRUNCATE checkpoint) before and after VACUUM;
    `wal` is what a reader kept in the WAL past the last checkpoint (0 when none did)."""

    database: str
    before: int
    after: int
    wal: int

    @property
    def freed(self) -> int:
        """Bytes given back to the disk (0 when the file grew, as a WAL a reader held may)."""
        return max(0, self.before - self.after)


def local_path(database: str) -> str:
    """The file a SQLite path or `sqlite:///` URL names; raises StorageError for anything that is
    not a file (another URL, an empty path, an in-memory database)."""
    path = database[len(SQLITE_URL) :] if database.startswith(SQLITE_URL) else database
    if not path or path == MEMORY or "://" in path:
        raise StorageError(f"{database or 'an empty path'} is not a SQLite database file.")
    return path


# -- backup ----------------------------------------------------------------------------------------
def backup(
    database: str, file: str, *, replace: bool = False, pages: int = PAGES_PER_STEP
) -> Backup:
    """Copy the database at `database` (a path or `sqlite:///` URL) to `file` with SQLite's online
    backup API, `pages` pages a step, while other processes keep writing: the copy is the one
    snapshot a read transaction saw, checked with `PRAGMA quick_check`, in rollback-journal mode.
    It is written to a new 0600 file beside `file`, synced, then renamed into place, so `file`
    is the whole copy or is left as it was.

    Raises InvalidInput when `file` is in a missing folder, is the database or one of its side
    files, exists (unless `replace`), is a directory, or has a -wal or -journal beside it;
    StorageError when the database cannot be read, the disk is full, or the copy fails its check.
    """
    source = local_path(database)
    check_path(source, read_only=True, create=False)
    target = _check_target(source, file, replace=replace)
    started = time.monotonic()
    with closing(_open_source(source)) as src:
        fd, temp = _create_temp(target, file)
        try:
            counts = _copy(src, source, temp, pages)
            os.fsync(fd)
            os.replace(temp, target)
        except BaseException as exc:
            _remove(temp)
            if isinstance(exc, sqlite3.Error):
                raise _copy_error(exc, source, file) from exc
            if isinstance(exc, OSError):
                raise _write_error(exc, file) from exc
            raise
        finally:
            os.close(fd)
    _sync_folder(os.path.dirname(target), file)
    return Backup(source, file, counts, os.path.getsize(target), time.monotonic() - started)


def _check_target(source: str, file: str, *, replace: bool) -> str:
    """The absolute path `file` names, once it is a place a backup may go."""
    if not file or file == MEMORY or "\x00" in file:
        raise InvalidInput(f"give a file path for the backup, not {file!r}.")
    target = os.path.abspath(file)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise InvalidInput(
            f"cannot back up to {file}: the folder {folder} does not exist; create it or choose "
            "another path."
        )
    if _is_live(target, source):
        raise InvalidInput(
            f"{file} is the database {source} itself or one of its -wal, -shm and -journal "
            "files; back up to another path."
        )
    if os.path.isdir(target):
        raise InvalidInput(f"{file} is a directory; give a file path for the backup.")
    if os.path.lexists(target) and not replace:
        raise InvalidInput(f"{file} already exists; add --force to replace it.")
    for suffix in REPLAYED_SIDE_FILES:
        if os.path.lexists(target + suffix):
            raise InvalidInput(
                f"{file}{suffix} lies beside {file}, so it may be a database in use; remove "
                "it or choose another path."
            )
    return target


def _is_live(target: str, source: str) -> bool:
    """Whether `target` is the database file or one of its side files, by resolved path (a
    symlink, `..`) or by inode (a hard link)."""
    resolved = os.path.realpath(target)
    for base in {os.path.abspath(source), os.path.realpath(source)}:
        for name in (base, *(base + suffix for suffix in SIDE_FILES)):
            if resolved == os.path.realpath(name):
                return True
            with suppress(OSError):
                if os.path.samefile(target, name):
                    return True
    return False


def _create_temp(target: str, file: str) -> tuple[int, str]:
    """A new, empty, owner-only file beside `target` (the same file system, so the rename that
    puts the copy in place is atomic); the umask cannot widen or narrow its mode."""
    folder, name = os.path.split(target)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".backup", dir=folder)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise InvalidInput(f"cannot create a file in {folder} ({exc.strerror}).") from None
        raise _write_error(exc, file) from None
    os.fchmod(fd, 0o600)
    return fd, temp


def _copy(src: sqlite3.Connection, source: str, temp: str, pages: int) -> dict[str, int]:
    """Back the database `src` reads up into the empty file `temp`; answers the copy's jobs per
    status."""
    with closing(_connect(temp)) as dst:
        src.execute(BEGIN_READ)
        try:
            src.execute(READ_SNAPSHOT).fetchall()
            src.backup(dst, pages=pages, sleep=STEP_PAUSE)
        finally:
            src.execute(END_READ)
        dst.execute(ROLLBACK_JOURNAL).fetchall()
        check = [row[0] for row in dst.execute(QUICK_CHECK).fetchmany(3)]
        if check != ["ok"]:
            raise StorageError(
                f"the copy of {source} failed SQLite's check ({'; '.join(map(str, check))}), so "
                f"{source} itself may be damaged; nothing was written."
            )
        return {str(status): int(n) for status, n in dst.execute(q.SELECT_COUNTS)}


def _open_source(path: str) -> sqlite3.Connection:
    """A read-only connection to a jobdeck database of a schema this jobdeck knows."""
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    try:
        conn.execute(q.SET_BUSY_TIMEOUT.format(ms=int(BUSY_TIMEOUT * 1000)))
        _check_version(conn, path)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise storage_error(exc, path) from exc
        raise
    return conn


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(q.SET_BUSY_TIMEOUT.format(ms=int(BUSY_TIMEOUT * 1000)))
    except BaseException:
        conn.close()
        raise
    return conn


def _check_version(conn: sqlite3.Connection, path: str) -> None:
    version = int(conn.execute(q.USER_VERSION).fetchone()[0])
    if version == 0:
        raise StorageError(f"{path} is not a jobdeck database (it has no jobdeck tables).")
    refuse_newer(path, version, LATEST)


def _sync_folder(folder: str, file: str) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StorageError(
            f"wrote the backup {file}, but syncing its folder failed ({exc.strerror}), so a power "
            "cut now could lose it."
        ) from exc


def _remove(temp: str) -> None:
    for name in (temp, *(temp + suffix for suffix in SIDE_FILES)):
        with suppress(FileNotFoundError):
            os.remove(name)


# What SQLite answers when writing the copy failed; a failed read of the database is IOERR_READ
# or IOERR_SHORT_READ, and the database is already open by the time the copy starts.
_WRITE_ERRORS: Final = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")
_READ_ERRORS: Final = ("SQLITE_IOERR_READ", "SQLITE_IOERR_SHORT_READ")


def _copy_error(exc: sqlite3.Error, source: str, file: str) -> StorageError:
    """A failed write names the backup file; anything else, the database it copies."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_FULL":
        return _disk_full(file)
    if name.startswith(_WRITE_ERRORS) and name not in _READ_ERRORS:
        detail = str(exc).rstrip(".")
        return StorageError(f"cannot write the backup {file} ({detail}); nothing was written.")
    return storage_error(exc, source)


def _write_error(exc: OSError, file: str) -> StorageError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return _disk_full(file)
    return StorageError(f"cannot write the backup {file} ({exc.strerror}); nothing was written.")


def _disk_full(file: str) -> StorageError:
    return StorageError(f"cannot write the backup {file}: the disk is full; nothing was written.")


# -- vacuum ----------------------------------------------------------------------------------------
def vacuum(database: str, *, busy_timeout: float = BUSY_TIMEOUT) -> Vacuumed:
    """Run VACUUM on the database at `database` (a path or `sqlite:///` URL), giving its free
    pages back to the disk, and measure the file before and after (`Vacuumed`).

    VACUUM needs the write lock and the TRUNCATE checkpoints need every reader gone, each for a
    moment; other connections are waited for up to `busy_timeout` seconds in all before VACUUM
    (and again for the last checkpoint). Raises StorageError when they hold on longer (one
    sentence saying so), or the file cannot be opened or written.
    """
    path = local_path(database)
    check_path(path, read_only=False, create=False)
    deadline = time.monotonic() + busy_timeout
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    try:
        _wait_until(conn, deadline)
        _check_version(conn, path)
        before, _ = _settled_size(conn, path)
        _wait_until(conn, deadline)  # the checkpoint and VACUUM share one wait
        conn.execute(VACUUM)
        _wait_until(conn, time.monotonic() + busy_timeout)
        after, wal = _settled_size(conn, path)
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise StorageError(
                f"{path} is in use: VACUUM needs every other connection idle for a moment; "
                "stop the workers and the monitor, then run it again."
            ) from exc
        raise storage_error(exc, path) from exc
    finally:
        conn.close()
    return Vacuumed(path, before, after, wal)


def _wait_until(conn: sqlite3.Connection, deadline: float) -> None:
    """Let SQLite's busy handler wait for other connections until `deadline` at most."""
    left = max(0, int((deadline - time.monotonic()) * 1000))
    conn.execute(q.SET_BUSY_TIMEOUT.format(ms=left))


def _settled_size(conn: sqlite3.Connection, path: str) -> tuple[int, int]:
    """The bytes the database at `path` takes once its WAL is checkpointed and truncated (the
    main file plus whatever a reader kept in the WAL), and the WAL's share of them."""
    conn.execute(CHECKPOINT_TRUNCATE).fetchall()
    try:
        wal = os.path.getsize(path + "-wal")
    except FileNotFoundError:
        wal = 0
    return os.path.getsize(path) + wal, wal
