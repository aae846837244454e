"""How both backends find their numbered migration files, `NNNN_name.sql`, in a package."""

from __future__ import annotations

import re
from importlib.resources import files

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def numbered_files(package: str) -> list[tuple[int, str, str]]:
    """(number, name, text) of each `NNNN_name.sql` in a package, in order; refuses a gap."""
    found = sorted(
        (int(match[1]), entry.name, entry.read_text("utf-8"))
        for entry in files(package).iterdir()
        if (match := _NAME.match(entry.name))
    )
    if [version for version, _, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {[name for _, name, _ in found]}")
    return found
