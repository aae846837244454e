"""Process-level helpers: the real command, run from the repository root so that
`--handlers tests.reliability.kinds:registry` imports, with $JOBDECK_TEST_LOG set."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.harness import REPO, Ran, jobdeck, spawn

HANDLERS = ("--handlers", "tests.reliability.kinds:registry")


@dataclass(frozen=True)
class Rig:
    """One database and one execution log in a fresh folder."""

    db: Path
    log: Path

    @property
    def env(self) -> dict[str, str]:
        return {"JOBDECK_TEST_LOG": str(self.log)}

    def run(self, *args: str, stdin: str | bytes | None = None, timeout: float = 30) -> Ran:
        return jobdeck(
            self.db, *HANDLERS, *args, cwd=REPO, stdin=stdin, env=self.env, timeout=timeout
        )

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        return spawn(self.db, *HANDLERS, *args, cwd=REPO, env=self.env)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path / "jobs.db", tmp_path / "executions.log")
