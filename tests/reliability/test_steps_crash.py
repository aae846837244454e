"""Durable steps across a SIGKILL: a stored step never runs again; an unstored one does."""

from __future__ import annotations

import os
import signal

from tests.cli.harness import reaped, wait_until
from tests.reliability.conftest import Rig
from tests.reliability.kinds import read_marks


def _kill_when(rig: Rig, tag: str) -> None:
    victim = rig.spawn("worker", "--lease", "1")
    with reaped(victim):
        wait_until(lambda: tag in read_marks(rig.log), what=tag)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)


def test_a_step_stored_before_a_sigkill_is_not_run_again(rig: Rig) -> None:
    job_id = rig.run("submit", "rel.step_then_hang", "{}").out.strip()
    _kill_when(rig, f"hanging:{job_id}")
    assert rig.run("worker", "--burst", "--lease", "2", timeout=20).code == 0
    shown = rig.run("show", job_id, "--json").json()
    assert (shown["status"], shown["attempt"]) == ("done", 2)
    assert read_marks(rig.log).count(f"charge:{job_id}") == 1
    (step,) = shown["steps"]
    assert (step["name"], step["status"], step["attempt"]) == ("charge", "done", 1)


def test_a_step_killed_before_its_result_was_stored_runs_again(rig: Rig) -> None:
    job_id = rig.run("submit", "rel.hang_in_step", "{}").out.strip()
    _kill_when(rig, f"step:{job_id}")
    assert rig.run("worker", "--burst", "--lease", "2", timeout=20).code == 0
    shown = rig.run("show", job_id, "--json").json()
    assert shown["status"] == "done" and shown["result"] == {"attempt": 2}
    assert read_marks(rig.log).count(f"step:{job_id}") == 2  # at least once, by design
