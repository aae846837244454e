"""The benchmark entry command still runs end to end (tiny sizes, no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_bench_quick_run_prints_the_table_and_writes_markdown(tmp_path: Path) -> None:
    pytest.importorskip("huey")
    out = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--jobs", "200", "--sizes", "200,400",
         "--no-paint", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "end to end, 2 worker processes" in done.stdout
    assert "÷huey" in done.stdout and "÷raw" in done.stdout
    assert "cost growth" in done.stdout
    written = out.read_text(encoding="utf-8")
    assert written.startswith("# Benchmarks") and "| measurement |" in written
