"""The PostgreSQL fault campaign (scripts/pg_campaign.py), bounded: one round each of a worker
SIGKILLed, the server stopped with `pg_ctl stop -m immediate` and started again mid-load, and
every jobdeck session ended with `pg_terminate_backend`. Every guarantee it checks is a
violation that fails this test; the long run is `scripts/pg_campaign.py --rounds 30`."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import pg_campaign
from tests import pg_cluster


def test_a_sigkill_a_server_restart_and_terminated_sessions_lose_nothing(
    tmp_path: Path,
) -> None:
    if pg_cluster.find_bin() is None:
        pytest.skip("PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, pg_ctl).")
    lines: list[str] = []
    argv = ["--rounds", "3", "--workers", "2", "--jobs-per-round", "20", "--seed", "3"]
    code = pg_campaign.main([*argv, "--dir", str(tmp_path)], say=lines.append)
    if code == 2:
        pytest.skip(lines[-1])
    assert code == 0, "\n".join(lines)
    assert lines[-1].startswith("verdict: ok — 3 rounds (1 sigkill, 1 restart, 1 terminate)")
    rounds = [line for line in lines if line.startswith("round ")]
    assert [line.split(": ")[1] for line in rounds] == ["sigkill", "restart", "terminate"]
    assert "server stopped -m immediate, back after" in rounds[1]
    assert all(line.endswith("— ok") for line in rounds)


def test_the_worker_log_check_flags_a_second_warning_a_traceback_and_a_dead_worker(
    tmp_path: Path,
) -> None:
    rig = pg_campaign.PgRig(tmp_path, 1, url="postgresql://nowhere/none")
    warning = "WARNING jobdeck.outage store unreachable: cannot reach it; retrying\n"
    (tmp_path / "worker-0.err").write_text(warning)
    (tmp_path / "worker-1.err").write_text(warning * 2)
    (tmp_path / "worker-2.err").write_text(
        "WARNING jobdeck.worker 3 finished attempt(s) not recorded, their leases had moved on\n"
        "Traceback (most recent call last):\n  boom\n"
    )
    tally = pg_campaign.Tally()
    problems = pg_campaign.check_workers(rig, tally)
    assert problems == [
        "worker-1.err: 2 'store unreachable' warnings for one outage",
        "worker-2.err: a traceback: ' (most recent call last):\\n  boom\\n'",
    ]
    assert (tally.warnings, tally.late) == (3, 3)
    assert pg_campaign.check_workers(rig, tally) == []  # only what is new since the last look
