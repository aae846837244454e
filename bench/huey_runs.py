"""The huey side: enqueue rate, and the end-to-end drain with huey's consumer (2 worker
processes), measured on a SQLite file the same way as jobdeck's."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.jobdeck_runs import REPO, child_env

DB_ENV = "JOBDECK_BENCH_HUEY_DB"  # read by bench.huey_tasks when it is imported


@dataclass(frozen=True)
class HueyFigures:
    enqueue: float  # jobs/s, one enqueue call per job (huey has no batch enqueue)
    end_to_end: float  # jobs/s from the first enqueue to the last result stored


def available() -> bool:
    try:
        importlib.import_module("huey")
    except ImportError:
        return False
    return True


def run(folder: Path, n: int, workers: int) -> HueyFigures:
    db = folder / "huey.db"
    os.environ[DB_ENV] = str(db)
    if "bench.huey_tasks" in sys.modules:
        raise RuntimeError("bench.huey_tasks was imported before its database was chosen")
    tasks = importlib.import_module("bench.huey_tasks")
    huey = tasks.huey
    began = time.perf_counter()
    for i in range(n):
        tasks.noop(i)
    enqueued = time.perf_counter()
    log = (folder / "huey-consumer.log").open("w")
    consumer = subprocess.Popen(
        [sys.executable, "-m", "huey.bin.huey_consumer", "bench.huey_tasks.huey",
         "-w", str(workers), "-k", "process", "-n", "-C", "-q"],
        cwd=REPO,
        env=child_env() | {DB_ENV: str(db)},
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + max(120.0, n / 100)
        while huey.result_count() < n:
            if consumer.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (folder / "huey-consumer.log").read_text()[-400:]
                raise RuntimeError(
                    f"huey's consumer stopped at {huey.result_count()} of {n}: {tail}"
                )
            time.sleep(0.01)
        finished = time.perf_counter()
    finally:
        consumer.send_signal(signal.SIGINT)
        try:
            consumer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
        huey.storage.close()
    return HueyFigures(n / (enqueued - began), n / (finished - began))
