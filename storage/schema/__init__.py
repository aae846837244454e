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
    found: list[Migration] = []
    for entry in files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match[1]), entry.name, split_statements(entry.read_text("utf-8")))
            )
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {[m.name for m in found]}")
    return tuple(found)


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
