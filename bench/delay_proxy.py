"""A TCP proxy on loopback that holds every chunk for a fixed delay each way, so clients reach a
server on this machine as if it were on another host (0.5 ms each way is a 1 ms round trip), and
counts the round trips that cross it.

    python -m bench.delay_proxy --target 127.0.0.1:5432 [--delay-ms 0.5]

It prints the port it listens on (one line), then, for every line read on standard input, one
JSON line of its counters so far; it stops at the end of standard input.

A round trip here is a turn of a conversation: a chunk from the client that follows the server's
last answer on that connection (or opens it). A pipelined batch of statements sent in one go is
one turn; a NOTIFY the server pushes to an idle listener is none. Threads, not asyncio: the event
loop sleeps in whole milliseconds (epoll), which would double a 0.5 ms delay.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import socket
import sys
import threading
import time
from dataclasses import asdict, dataclass

CHUNK = 65536


@dataclass
class Counters:
    connections: int = 0
    turns: int = 0  # client chunks that follow a server answer: round trips
    bytes_up: int = 0  # client -> server
    bytes_down: int = 0  # server -> client


class DelayProxy:
    """Listens on 127.0.0.1 (an ephemeral port unless `port` is given) and forwards each
    accepted connection to `target`, every chunk `delay` seconds late in each direction."""

    def __init__(self, target: tuple[str, int], delay: float, port: int = 0) -> None:
        self.target = target
        self.delay = delay
        self.counters = Counters()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", port))
        self.port: int = self._server.getsockname()[1]

    def serve(self) -> None:
        """Accept connections until the listening socket is closed (in a thread of its own)."""
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.counters.connections += 1
            answered = [True]  # the server spoke last (a new connection opens a turn)
            self._pipe(client, upstream, answered, up=True)
            self._pipe(upstream, client, answered, up=False)

    def _pipe(self, src: socket.socket, dst: socket.socket, answered: list[bool], up: bool) -> None:
        held: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()

        def read() -> None:
            while True:
                try:
                    data = src.recv(CHUNK)
                except OSError:
                    data = b""
                if not data:
                    held.put(None)
                    return
                with self._lock:
                    if up:
                        self.counters.bytes_up += len(data)
                        if answered[0]:
                            self.counters.turns += 1
                            answered[0] = False
                    else:
                        self.counters.bytes_down += len(data)
                        answered[0] = True
                held.put((time.monotonic() + self.delay, data))

        def write() -> None:
            while (item := held.get()) is not None:
                due, data = item
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                try:
                    dst.sendall(data)
                except OSError:
                    break
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return asdict(self.counters)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.delay_proxy", description=__doc__.split("\n")[0]
    )
    p.add_argument("--target", required=True, help="HOST:PORT of the server")
    p.add_argument("--delay-ms", type=float, default=0.5, help="delay each way (default 0.5)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    args = p.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    if not host or not port.isdigit():
        p.error(f"--target must be HOST:PORT, not {args.target!r}")
    if args.delay_ms < 0:
        p.error("--delay-ms cannot be negative")
    proxy = DelayProxy((host, int(port)), args.delay_ms / 1000, args.port)
    proxy.serve()
    print(proxy.port, flush=True)
    for _ in sys.stdin:
        print(json.dumps(proxy.snapshot()), flush=True)
    proxy.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
