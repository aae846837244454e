"""The delaying proxy the PostgreSQL comparison puts between workers and the server, and the
comparison itself on jobdeck alone (the peers are a bench extra `make test` does not install)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PgServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A loopback server that sends back whatever one connection sends it."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    server.close()


def test_delay_proxy_forwards_both_ways_and_counts_each_exchange_as_a_round_trip(
    echo_port: int,
) -> None:
    proxy = subprocess.Popen(
        [sys.executable, "-m", "bench.delay_proxy", "--target", f"127.0.0.1:{echo_port}",
         "--delay-ms", "1"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proxy.stdin is not None and proxy.stdout is not None
    try:
        port = int(proxy.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            for message in (b"one", b"two", b"three"):
                client.sendall(message)
                got = b""
                while len(got) < len(message):
                    got += client.recv(1024)
                assert got == message
        proxy.stdin.write("\n")
        proxy.stdin.flush()
        counters = json.loads(proxy.stdout.readline())
    finally:
        proxy.stdin.close()
        proxy.wait(timeout=10)
    assert proxy.returncode == 0
    assert counters["connections"] == 1
    assert counters["turns"] == 3
    assert counters["bytes_up"] == counters["bytes_down"] == len(b"onetwothree")


def test_delay_proxy_refuses_a_target_without_a_port() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.delay_proxy", "--target", "localhost"],
        cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--target must be HOST:PORT" in done.stderr
    assert "Traceback" not in done.stderr


def test_pg_peers_runs_jobdeck_alone_through_the_links(pg_server: PgServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.pg_peers", "--only", "jobdeck", "--url", pg_server.base,
         "--jobs", "300", "--singles", "10", "--samples", "5", "--spacing-ms", "5",
         "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "end to end, jobs/s" in done.stdout
    assert "round trips a single submit" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])["jobdeck"]
    # Each single submit crossed the client link at least once; the drain crossed the workers'.
    assert figures["submit_trips"][0] >= 1
    assert figures["worker_trips"][0] > 0


@pytest.mark.parametrize(("concurrency", "batch", "cap"), [(32, 16, 32), (7, 3, 7), (1, 1, 2)])
def test_pgqueuer_is_held_to_the_same_jobs_in_flight_unless_uncapped(
    tmp_path: Path, concurrency: int, batch: int, cap: int
) -> None:
    from bench.pg_sides import PgqueuerSide, UncappedPgqueuerSide

    urls = ("postgresql://h/d", "postgresql://h/d", "postgresql://h/d", tmp_path)
    capped = PgqueuerSide(*urls).worker_command(concurrency)
    assert capped[-2:] == [str(batch), str(cap)]  # PgQueuer wants a cap of twice the batch
    uncapped = UncappedPgqueuerSide(*urls).worker_command(concurrency)
    assert uncapped[-2:] == ["bench.pgqueuer_app", str(concurrency)]  # its default: no cap
