"""PostgreSQL migrations, `NNNN_name.sql`, applied in order inside one transaction; the table
`jobdeck.schema_version` holds the number of the last one applied. A migration is never edited
once released: a change is a new file. Each file runs whole (PostgreSQL takes a script of many
statements in one simple query), so a function body with semicolons needs no splitting."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jobdeck.storage.migrations import numbered_files


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    script: str


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this jobdeck, oldest first, numbered 1, 2, 3 ... no gaps."""
    return tuple(Migration(*found) for found in numbered_files(__package__))


def latest() -> int:
    """The schema version this jobdeck writes."""
    return len(migrations())
