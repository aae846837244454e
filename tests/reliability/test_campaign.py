"""The crash campaign (scripts/campaign.py), bounded: 3 rounds of workers SIGKILLed at random,
a submitter killed mid-batch, and a rescuer that finishes alone. Every guarantee it checks is a
violation that fails this test; the long run is `scripts/campaign.py --rounds 50`."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.cli.harness import REPO


def load_campaign() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jobdeck_campaign", REPO / "scripts/campaign.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Ran:
    module: ModuleType
    folder: Path
    code: int
    lines: list[str]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    campaign = load_campaign()
    folder = tmp_path_factory.mktemp("campaign")
    lines: list[str] = []
    argv = ["--rounds", "3", "--workers", "2", "--jobs-per-round", "30", "--seed", "6"]
    code = campaign.main([*argv, "--dir", str(folder)], say=lines.append)
    return Ran(campaign, folder, code, lines)


def test_three_rounds_of_sigkills_lose_nothing_and_run_nothing_twice(ran: Ran) -> None:
    assert ran.code == 0, "\n".join(ran.lines)
    assert ran.lines[-1].startswith("verdict: ok"), ran.lines[-1]
    assert sum(line.startswith("round ") for line in ran.lines) == 3
    assert any(line.startswith("rescue: ") and line.endswith("ok") for line in ran.lines)


def test_the_campaign_checks_catch_a_broken_database(ran: Ran, tmp_path: Path) -> None:
    """The checks can fail: a lost job, a failed job recorded done, counts that disagree and a
    log that no longer replays are each reported."""
    db, log = tmp_path / "jobs.db", ran.folder / "runs.log"
    shutil.copy(ran.folder / "jobs.db", db)
    assert ran.module.verify(db, log, {}).violations == []
    with closing(sqlite3.connect(db)) as conn:
        done = conn.execute("SELECT id FROM jobs WHERE status = 'done' LIMIT 2").fetchall()
        failed = conn.execute(
            "SELECT job_id FROM attempts WHERE outcome = 'failed' LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE jobs SET status = 'running' WHERE id = ?", done[0])
        conn.execute("UPDATE attempts SET outcome = 'done' WHERE job_id = ?", failed)
        conn.execute("DELETE FROM events WHERE job_id = ? AND from_status IS NOT NULL", done[1])
        conn.commit()
    found = "\n".join(ran.module.verify(db, log, {}).violations)
    assert f"{done[0][0]}: still running after the round drained" in found
    assert "the counts table says" in found
    assert f"{failed[0]}: failed, yet an attempt is recorded done" in found
    assert f"{done[1][0]}: events" in found
