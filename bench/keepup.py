"""Does the monitor keep up with a busy engine, and what does that cost it?

    python -m bench.keepup [--db PATH] [--rate 1000] [--seconds 20] [--tick 1.0]

This process submits `--rate` no-op jobs a second while a `jobdeck worker` process runs them, so
about `--rate` jobs finish each second. The monitor is the real `jobdeck tui --read-only` in a
160×48 tmux terminal, so its figures include drawing to a terminal. Over the measured window we
read the monitor process's CPU time from /proc, and twice a second what its screen shows (the
count in each pane's title, by `tmux capture-pane`), which we compare with the counts the store
held (read here every 0.1 s): the finished count shown must be one the store held no more than a
tick earlier. After the load stops and the queue drains, the four counts shown must equal
`jobdeck status` exactly.

Prints the figures as ratios against their budgets and one JSON line; exits 1 when a budget is
missed (2 without tmux). Without `--db` it runs on a fresh database in a temporary folder; with
`--db` it adds its jobs to that file (a copy of a large one with no queued backlog, or the worker
drains that first).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import jobdeck_runs as jd
from bench.kinds import NOOP
from jobdeck.core.contract import Status
from jobdeck.core.engine import Engine

SIZE = (160, 48)
CPU_BUDGET = 0.30  # of one core
SAMPLE_EVERY = 0.1  # seconds between reads of the store's counts
CAPTURE_EVERY = 0.5  # seconds between reads of the monitor's screen
BATCHES_PER_SECOND = 10
SLACK = 0.2  # seconds: a read, a paint and a capture take a moment
TITLE = re.compile(r"(Queued|Running|Done|Failed) ([\d,]+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.keepup", description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, help="an existing database to add the load to")
    p.add_argument("--rate", type=int, default=1000, help="jobs submitted (and run) per second")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the measured window")
    p.add_argument("--warmup", type=float, default=3.0, help="load before the window opens")
    p.add_argument("--tick", type=float, default=1.0, help="the monitor's refresh period")
    p.add_argument("--concurrency", type=int, default=32, help="handlers in the worker")
    return p.parse_args(argv)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its threads, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


class Terminal:
    """A tmux server of our own (its own socket) holding one window that runs the monitor."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"jobdeck-keepup-{os.getpid()}"
        self.env = env
        width, height = SIZE
        self._tmux(
            "new-session", "-d", "-s", "monitor", "-x", str(width), "-y", str(height),
            "-c", str(jd.REPO), "exec " + shlex.join(command),
        )  # fmt: skip
        self.pid = int(self._tmux("display-message", "-p", "-t", "monitor", "#{pane_pid}"))
        self.socket_path = Path(self._tmux("display-message", "-p", "#{socket_path}"))

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "monitor")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        self.socket_path.unlink(missing_ok=True)  # tmux leaves it behind


def shown_counts(screen: str) -> dict[Status, int] | None:
    """The count in each pane's title, or None until all four are on the screen."""
    found = {Status(name.lower()): int(n.replace(",", "")) for name, n in TITLE.findall(screen)}
    return found if len(found) == len(Status) else None


def finished(counts: dict[Status, int]) -> int:
    return counts.get(Status.DONE, 0) + counts.get(Status.FAILED, 0)


@dataclass
class History:
    """The store's finished count over time, read every SAMPLE_EVERY seconds."""

    times: list[float] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)

    def add(self, at: float, counts: dict[Status, int]) -> None:
        self.times.append(at)
        self.finished.append(finished(counts))

    def lag(self, at: float, shown: int) -> float:
        """How long before `at` the store held `shown` finished jobs: the age of what the screen
        shows. Between two reads the count is taken to grow evenly; 0 when the screen is ahead
        of our last read."""
        last = bisect.bisect_right(self.times, at) - 1
        for i in range(last, -1, -1):
            if self.finished[i] <= shown:
                if i == last:
                    return 0.0
                grew = self.finished[i + 1] - self.finished[i]
                share = (shown - self.finished[i]) / grew if grew else 0.0
                return at - (self.times[i] + share * (self.times[i + 1] - self.times[i]))
        return at - self.times[0]


async def feed(engine: Engine, rate: int, stop: asyncio.Event) -> int:
    """Submit `rate` jobs a second in BATCHES_PER_SECOND batches, on schedule, until `stop`."""
    batch = max(1, rate // BATCHES_PER_SECOND)
    period = batch / rate
    began = time.monotonic()
    sent = 0
    while not stop.is_set():
        await engine.submit_many(NOOP, jd.payloads(sent, sent + batch))
        sent += batch
        delay = began + (sent / batch) * period - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return sent


async def sample(engine: Engine, history: History, stop: asyncio.Event) -> None:
    while not stop.is_set():
        history.add(time.time(), await engine.counts())
        await asyncio.sleep(SAMPLE_EVERY)


async def wait_for_screen(terminal: Terminal, within: float) -> dict[Status, int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        counts = shown_counts(await asyncio.to_thread(terminal.screen))
        if counts is not None:
            return counts
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the monitor showed no counts within {within:g} s:\n{terminal.screen()}")


async def watch(
    terminal: Terminal, history: History, seconds: float
) -> list[tuple[float, dict[Status, int]]]:
    """Capture the monitor's screen every CAPTURE_EVERY seconds for `seconds`."""
    shots: list[tuple[float, dict[Status, int]]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        before = time.time()
        screen = await asyncio.to_thread(terminal.screen)
        at = (before + time.time()) / 2
        counts = shown_counts(screen)
        if counts is None:
            raise RuntimeError(f"the monitor's screen lost its pane titles:\n{screen}")
        shots.append((at, counts))
        await asyncio.sleep(CAPTURE_EVERY)
    return shots


def status_counts(db: Path) -> dict[Status, int]:
    """What `jobdeck status --json` says."""
    done = subprocess.run(
        [*jd.worker_command(db)[:-1], "status", "--json"],  # the same program, another command
        cwd=jd.REPO,
        env=jd.child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    counts: dict[str, int] = json.loads(done.stdout)
    return {status: int(counts.get(status.value, 0)) for status in Status}


async def settle(engine: Engine, db: Path, terminal: Terminal, tick: float) -> dict[str, Any]:
    """After the load: wait for the queue to drain, give the monitor two ticks, compare."""
    deadline = time.monotonic() + 60
    while True:
        counts = await engine.counts()
        if counts[Status.QUEUED] == counts[Status.RUNNING] == 0:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not drain the queue: {counts}")
        await asyncio.sleep(0.1)
    await asyncio.sleep(2 * tick + SLACK)
    shown = shown_counts(await asyncio.to_thread(terminal.screen))
    status = await asyncio.to_thread(status_counts, db)
    return {
        "shown": {s.value: n for s, n in (shown or {}).items()},
        "status": {s.value: n for s, n in status.items()},
        "match": shown == status,
    }


async def measure(db: Path, args: argparse.Namespace) -> dict[str, Any]:
    monitor = [*jd.worker_command(db)[:-1], "tui", "--read-only", "--tick", str(args.tick)]
    async with jd.engine_on(db) as engine:
        worker = await asyncio.create_subprocess_exec(
            *jd.worker_command(db, "--concurrency", str(args.concurrency)),
            cwd=jd.REPO,
            env=jd.child_env(),
            stderr=asyncio.subprocess.DEVNULL,
        )
        terminal = Terminal(monitor, jd.child_env())
        stop = asyncio.Event()
        history = History()
        feeder = asyncio.create_task(feed(engine, args.rate, stop))
        sampler = asyncio.create_task(sample(engine, history, stop))
        try:
            await wait_for_screen(terminal, within=30)
            await asyncio.sleep(args.warmup)
            cpu_began, began = cpu_seconds(terminal.pid), time.monotonic()
            shots = await watch(terminal, history, args.seconds)
            cpu = cpu_seconds(terminal.pid) - cpu_began
            wall = time.monotonic() - began
            stop.set()
            submitted = await feeder
            await sampler
            final = await settle(engine, db, terminal, args.tick)
        finally:
            stop.set()
            terminal.close()
            worker.terminate()
            await asyncio.wait_for(worker.wait(), 30)
    lags = [history.lag(at, finished(counts)) for at, counts in shots]
    first, last = shots[0][0], shots[-1][0]
    window = [
        (t, f) for t, f in zip(history.times, history.finished, strict=True) if first <= t <= last
    ]
    (t0, f0), (t1, f1) = window[0], window[-1]
    return {
        "rate_asked": args.rate,
        "rate_finished": (f1 - f0) / (t1 - t0) if t1 > t0 else 0.0,
        "submitted": submitted,
        "window_s": wall,
        "monitor_cpu_s": cpu,
        "monitor_cpu_share": cpu / wall,
        "cpu_vs_budget": cpu / wall / CPU_BUDGET,
        "captures": len(shots),
        "max_lag_s": max(lags),
        "lag_vs_tick": max(lags) / args.tick,
        "final": final,
    }


def report(out: dict[str, Any], tick: float) -> bool:
    cpu_ok = out["cpu_vs_budget"] <= 1
    lag_ok = out["max_lag_s"] <= tick + SLACK
    final_ok = bool(out["final"]["match"])
    print(
        f"finished {out['rate_finished']:,.0f} jobs/s (asked {out['rate_asked']:,}) "
        f"over {out['window_s']:.1f} s"
    )
    print(
        f"monitor CPU {100 * out['monitor_cpu_share']:.1f} % of one core: "
        f"{out['cpu_vs_budget']:.2f}× the 30 % budget  {'ok' if cpu_ok else 'MISSED'}"
    )
    print(
        f"oldest count shown {out['max_lag_s']:.2f} s behind the store over "
        f"{out['captures']} captures: {out['lag_vs_tick']:.2f}× a {tick:g} s tick  "
        f"{'ok' if lag_ok else 'MISSED'}"
    )
    if out["rate_finished"] < 0.9 * out["rate_asked"]:
        print("the worker fell short of the rate asked: the load was lighter than meant")
    print(f"after the drain, shown == jobdeck status: {final_ok}  {out['final']}")
    print(json.dumps(out))
    return cpu_ok and lag_ok and final_ok


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("tmux") is None:
        print("python -m bench.keepup runs the monitor in tmux, which is not installed.")
        return 2
    if args.db is not None:
        out = asyncio.run(measure(args.db, args))
    else:
        with tempfile.TemporaryDirectory(prefix="jobdeck-keepup-") as tmp:
            out = asyncio.run(measure(Path(tmp) / "keepup.db", args))
    return 0 if report(out, args.tick) else 1


if __name__ == "__main__":
    sys.exit(main())
