"""A monitor whose terminal goes away quits, even when no SIGHUP reaches it (as under make, which
keeps the signal to itself): the real `jobdeck demo` on a pseudo-terminal whose other end is
closed."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.cli.harness import command, run_env


def _read_until(fd: int, text: bytes, within: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} never showed; the screen had {seen[-400:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 65536)
    return seen


def test_the_monitor_quits_when_its_terminal_hangs_up_without_a_sighup(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    monitor = subprocess.Popen(
        command(tmp_path / "jobs.db", "demo", "--fresh", "--workers", "1"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=run_env({"TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}),
        start_new_session=True,  # the pseudo-terminal becomes its controlling terminal
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    os.close(slave)
    try:
        _read_until(master, b"Queued", within=30)
        os.close(master)  # the window closes
        monitor.wait(timeout=15)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.wait()
