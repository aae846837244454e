"""PostgreSQL migrations, `NNNN_name.sql`, applied in order inside one transaction; the table
`jobdeck.schema_version` holds the number of the last one applied. A migration is never edited
once released: a change is a new file. Each file runs whole (PostgreSQL takes a script of many
statements in one simple query), so a function body with semicolons needs no splitting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    script: str


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this jobdeck, oldest first, numbered 1, 2, 3 ... no gaps."""
    found = [
        Migration(int(match[1]), entry.name, entry.read_text("utf-8"))
        for entry in files(__package__).iterdir()
        if (match := _NAME.match(entry.name))
    ]
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {[m.name for m in found]}")
    return tuple(found)


def latest() -> int:
    """The schema version this jobdeck writes."""
    return len(migrations())
