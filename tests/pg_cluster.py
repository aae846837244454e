"""A throwaway PostgreSQL for tests and benchmarks: `initdb` into a temp folder, `postgres` on a
free loopback port with its socket in that folder, stopped and removed at the end.

The server binaries come from Debian's `postgresql` package (/usr/lib/postgresql/<v>/bin) or
PATH. initdb and postgres refuse to run as root, so as root they run as the `postgres` user the
package creates, in a folder it owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why, in one sentence."""


def find_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres (the newest version first)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running throwaway server; `url(db)` names one of its databases."""

    folder: Path
    bin: Path
    port: int
    as_user: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)  # the server's -o options, port aside

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: every session ends at once, mid-transaction or not, and
        the next start recovers from the WAL as after a crash."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        """Start the server again after `crash`, on the same port and socket folder."""
        self._pg_ctl(
            "-l", str(self.folder / "server.log"), "-w", "-t", "60",
            "-o", " ".join([*self.options, f"-p {self.port}"]), "start",
        )  # fmt: skip

    def _pg_ctl(self, *args: str) -> None:
        ran = subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *args],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        if ran.returncode != 0:
            raise Unavailable(f"pg_ctl {args[-1]} failed: {_tail(self.folder / 'server.log')}")

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
             "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def start(*, durable: bool = False) -> Cluster:
    """Start a server; `durable` keeps fsync on (for honest benchmark numbers), tests turn it off.

    Raises Unavailable with the reason when there are no binaries or the server will not start.
    """
    bin_dir = find_bin()
    if bin_dir is None:
        raise Unavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) were found; install Debian's "
            "postgresql package or set JOBDECK_TEST_PG_URL"
        )
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="jobdeck-pg-"))
    if os.geteuid() == 0:
        try:
            shutil.chown(folder, SERVER_USER, SERVER_USER)
        except (LookupError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise Unavailable(
                f"running as root, but there is no {SERVER_USER} user ({exc})"
            ) from exc
        as_user = ["runuser", "-u", SERVER_USER, "--"]
    data = folder / "data"
    _run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", SERVER_USER, "-A", "trust",
         "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        folder, "initdb",
    )  # fmt: skip
    options = [
        "-h 127.0.0.1",
        f"-k {folder}",
        "-c max_connections=300",
        "-c shared_buffers=64MB",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    last = ""
    for _ in range(3):  # a free port can be taken between our check and the server's bind
        port = free_port()
        ran = subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
             "-w", "-t", "30", "-o", " ".join([*options, f"-p {port}"]), "start"],
            capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip
        if ran.returncode == 0:
            return Cluster(folder, bin_dir, port, as_user, options)
        last = _tail(folder / "server.log") or ran.stderr.strip()
    shutil.rmtree(folder, ignore_errors=True)
    raise Unavailable(f"the PostgreSQL server did not start: {last}")


def _run(args: list[str], folder: Path, what: str) -> None:
    try:
        ran = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"{what} could not run ({exc})") from exc
    if ran.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        lines = (ran.stderr or ran.stdout).strip().splitlines()
        raise Unavailable(f"{what} failed: {lines[-1] if lines else ran.returncode}")


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""
