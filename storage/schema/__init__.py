"""Numbered migrations, `NNNN_name.sql`, applied in order; `PRAGMA user_version` is the number of
the last one applied. A migration is never edited once released: a change is a new file."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this jobdeck, oldest first, numbered 1, 2, 3 ... no gaps."""
    return tuple(
        Migration(version, name, split_statements(text))
        for version, name, text in numbered_files(__package__)
    )


def numbered_files(package: str) -> list[tuple[int, str, str]]:
    """(number, name, text) of each `NNNN_name.sql` in a package, in order; refuses a gap. The
    PostgreSQL migrations are found the same way."""
    found = sorted(
        (int(match[1]), entry.name, entry.read_text("utf-8"))
        for entry in files(package).iterdir()
        if (match := _NAME.match(entry.name))
    )
    if [version for version, _, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {[name for _, name, _ in found]}")
    return found


def latest() -> int:
    """The schema version this jobdeck writes."""
    return len(migrations())


def split_statements(script: str) -> tuple[str, ...]:
    """Split a script into statements, keeping a trigger's body whole. (`executescript` would
    commit the open transaction first, and a migration must run inside one.)"""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"unterminated SQL statement: {buffer.strip()[:60]}")
    return tuple(statements)
