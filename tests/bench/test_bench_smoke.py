"""The benchmark entry command still runs end to end (tiny sizes, no timing assertions)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_quick_run_prints_the_table_and_writes_markdown(tmp_path: Path) -> None:
    # huey is a bench-only extra: without it the run still goes, minus the huey rows.
    has_huey = importlib.util.find_spec("huey") is not None
    out = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--jobs", "200", "--sizes", "200,400",
         "--no-paint", "--out", str(out), *([] if has_huey else ["--no-huey"])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "end to end, 2 worker processes" in done.stdout
    assert "÷raw" in done.stdout
    if has_huey:
        assert "÷huey" in done.stdout
    assert "cost growth" in done.stdout
    assert "Client.submit, one caller" in done.stdout
    assert "pages written by one submit's commit" in done.stdout
    assert "/metrics scrape at 400 jobs and a day of rollup" in done.stdout
    assert "OpenTelemetry API, no SDK" in done.stdout
    written = out.read_text(encoding="utf-8")
    assert written.startswith("# Benchmarks") and "| measurement |" in written


def test_bench_client_runs_and_counts_pages_by_tree() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.client", "--jobs", "60", "--rounds", "1", "--threads", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "× the floor" in done.stdout and "× one thread" in done.stdout
    assert "pages per one-job commit, client:" in done.stdout and "jobs_dedupe" in done.stdout
    # the floors of both targets, from the same run
    assert "× the prepared floor" in done.stdout
    assert "plain sqlite3, 3 threads, groups" in done.stdout and "holds the GIL" in done.stdout
