"""When a peer's task started: the procrastinate and PgQueuer workers append `n time` lines to
the file an environment variable names (jobdeck's stamp kind returns the time in its result)."""

from __future__ import annotations

import os
import time
from pathlib import Path

STAMPS_ENV = "JOBDECK_BENCH_STAMPS"


def record_start(n: int) -> None:
    """Append this task's number and the time now (one short write, atomic with O_APPEND)."""
    at = time.time()  # first: the start is the figure
    path = os.environ.get(STAMPS_ENV)
    if path:
        with open(path, "a", encoding="ascii") as out:
            out.write(f"{n} {at:.6f}\n")


def read_starts(path: Path) -> dict[int, float]:
    """Each task number's first recorded start."""
    starts: dict[int, float] = {}
    if path.exists():
        for line in path.read_text(encoding="ascii").splitlines():
            n, at = line.split()
            starts.setdefault(int(n), float(at))
    return starts
