"""Finding jobs by text, the same way on every path: an id or a fragment of one (`show`, `rerun`,
`fail`), and the pattern a filter matches. Standard library only, so the plain-sqlite3 read
path of the CLI (peek.py) uses it as the stores do."""

from __future__ import annotations

import sqlite3
from typing import Any, Final, NoReturn

from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.storage.sqlite import queries as q

# The fewest characters of an id a lookup by prefix or suffix accepts.
MIN_FIND: Final = 4
# Sorts after every id: a prefix's range of ids is [prefix, prefix + ID_MAX), and a keyset page
# read newest first starts below it.
ID_MAX: Final = "\U0010ffff"
# The length of a whole id (jobdeck.core.ids), kept here too so the quick read path need not
# import the id maker; a test checks the two agree.
ID_LENGTH: Final = 26


def check_fragment(text: str) -> None:
    """Refuse a fragment too short to look up, and one that no id can hold."""
    if len(text) < MIN_FIND:
        raise InvalidInput(f"give at least {MIN_FIND} characters of a job id, not {text!r}.")
    if "\x00" in text:  # no id holds a NUL, and LIKE would stop reading the pattern there
        raise NotFound(f"no job id is, starts or ends with {text!r}.")


def not_one(text: str, ids: set[str]) -> NoReturn:
    """A fragment that matched no id, or several."""
    if not ids:
        raise NotFound(f"no job id is, starts or ends with {text}.")
    raise InvalidInput(f"{text} matches more than one job id; give more characters.")


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_anywhere(text: str | None) -> str | None:
    return None if not text else f"%{escape_like(text)}%"


def page_start(after: str | None, newest_first: bool) -> str:
    """Where a keyset page starts when the caller names no id: before every id or after."""
    if after is not None:
        return after
    return ID_MAX if newest_first else ""


def find_row(conn: sqlite3.Connection, text: str) -> tuple[Any, ...] | set[str]:
    """On SQLite: the row whose id is `text`, else the ids (at most a few) starting or ending
    with it."""
    exact: tuple[Any, ...] | None = conn.execute(q.SELECT_JOB, (text,)).fetchone()
    if exact is not None:
        return exact
    ids = {row[0] for row in conn.execute(q.SELECT_IDS_IN_RANGE, (text, text + ID_MAX))}
    ids |= {row[0] for row in conn.execute(q.SELECT_IDS_LIKE, ("%" + escape_like(text),))}
    if len(ids) == 1:
        found: tuple[Any, ...] = conn.execute(q.SELECT_JOB, (ids.pop(),)).fetchone()
        return found
    return ids
