"""Numbered migrations, `NNNN_name.sql`, applied in order; `PRAGMA user_version` is the number of
the last one applied. A migration is never edited once released: a change is a new file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache

from jobdeck.storage.migrations import numbered_files


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
