"""The SQLite file itself, before any connection: which paths can be a jobdeck database, creating
it owner-only, the read-only URI, and refusing a schema from a newer jobdeck. Standard library
only, so `jobdeck status` can use it without loading the store."""

from __future__ import annotations

import os
from urllib.parse import quote

from jobdeck.core.errors import StorageError

HEADER = b"SQLite format 3\x00"
MEMORY = ":memory:"


def check_path(path: str, *, read_only: bool, create: bool) -> bool:
    """Refuse a path that cannot be a jobdeck database; returns whether the file must be created."""
    if "\x00" in path:  # the operating system cannot name such a file
        raise StorageError("the database path contains a NUL character; give a file path.")
    if path == MEMORY:
        if read_only:
            raise StorageError("an in-memory database cannot be opened read-only.")
        return False
    if os.path.isdir(path):
        raise StorageError(f"{path} is a directory, not a database file.")
    if os.path.exists(path):
        if os.path.getsize(path) > 0:
            with open(path, "rb") as file:
                if file.read(len(HEADER)) != HEADER:
                    raise StorageError(
                        f"{path} is not a jobdeck database (it is not an SQLite file)."
                    )
        return False
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StorageError(f"the folder {folder} does not exist; create it or choose another path.")
    if read_only or not create:
        raise StorageError(f"there is no database at {path}.")
    return True


def create_file(path: str) -> None:
    """Create the empty database file readable by its owner only (SQLite gives its -wal and -shm
    files the same mode)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another process created it between our check and now; it set the mode
    except OSError as exc:
        raise StorageError(f"cannot create {path} ({exc.strerror}).") from exc
    os.close(fd)
    os.chmod(path, 0o600)  # in case the umask took bits away the owner needs


def read_only_uri(path: str) -> str:
    return f"file:{quote(os.path.abspath(path), safe='/')}?mode=ro"


def refuse_newer(path: str, version: int, known: int) -> None:
    if version > known:
        raise StorageError(
            f"{path} was written by a newer jobdeck (schema {version}; this one knows "
            f"{known}); upgrade jobdeck to open it."
        )
