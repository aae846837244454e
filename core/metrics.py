"""Prometheus metrics of a jobdeck database, read per scrape from the rows the monitor's system
views read (`Store.kind_counts`, `Store.rollup`, `Store.oldest_queued`, `Store.workers`), with
prometheus-client's own types, text format and HTTP server.

Nothing is counted in this process: each scrape reads the database, so every `/metrics`
endpoint on one database (a `jobdeck metrics` process, each worker's `--metrics-listen`) tells
the same numbers, and a restart never resets a counter (the rollup's totals never shrink). The
all-time sums are kept between scrapes from the newest buckets (`jobdeck.core.totals`), so a
scrape reads a few hundred rows, not a day of them.
Labels are kinds, statuses, outcomes and reason codes, never ids, payloads or results.

prometheus-client calls `collect()` from its server's threads; the reads run on the event loop
that owns the store (`on_loop`), and the answer is built from them here.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import ThreadingWSGIServer, make_wsgi_app
from prometheus_client.registry import Collector, CollectorRegistry

from jobdeck.core.contract import Status
from jobdeck.core.errors import InvalidInput, JobdeckError
from jobdeck.core.store import Store
from jobdeck.core.system import RUN_TIME_BOUNDS, Outcome, RollupRow
from jobdeck.core.totals import Totals

log = logging.getLogger("jobdeck.metrics")

LEASE_LOST: Final = "lost_lease"  # the reason code lease recovery gives (core.retry.lost_lease)
SCRAPE_TIMEOUT: Final = 10.0  # seconds a scrape waits for the database before answering up 0
PATH: Final = "/metrics"
# A worker row that does not say its lease (one written by an older jobdeck) is alive when heard
# from within this many seconds: two default leases.
ALIVE_WITHIN: Final = 60.0
# The outcomes with a counter of their own, and whether it is labelled by reason code.
COUNTERS: Final = (
    (Outcome.DONE, "jobdeck_jobs_done", "Jobs that ended done.", False),
    (Outcome.FAILED, "jobdeck_jobs_failed", "Jobs that ended failed, by reason code.", True),
    (
        Outcome.RETRIED,
        "jobdeck_jobs_retried",
        "Attempts that failed and went back to the queue, by reason code.",
        True,
    ),
    (
        Outcome.DENIED,
        "jobdeck_jobs_denied",
        "Jobs a gate denied at submit (stored failed, never run), by reason code.",
        True,
    ),
    (Outcome.CANCELLED, "jobdeck_jobs_cancelled", "Jobs an operator cancelled.", False),
)
# As prometheus-client writes a float (`1.0`, `0.005`); the bounds are plain decimals.
_LE: Final = (*(str(float(bound)) for bound in RUN_TIME_BOUNDS), "+Inf")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one scrape read from the store, at `now`."""

    now: float
    kind_counts: Mapping[str, Mapping[Status, int]]
    rows: Sequence[RollupRow]
    oldest_queued: Mapping[str, float]
    workers_alive: int = 0


async def read(store: Store, now: float, totals: Totals | None = None) -> Snapshot:
    """The rows one scrape needs: counts per kind, the rollup's all-time sums (kept by
    `totals` from the newest buckets; without it, every rollup row is read), the oldest queued
    job of each kind, and how many workers are alive."""
    return Snapshot(
        now=now,
        kind_counts=await store.kind_counts(),
        rows=await (store.rollup(0) if totals is None else totals.rows(store, now)),
        oldest_queued=await store.oldest_queued(),
        workers_alive=await store.workers_alive(now, ALIVE_WITHIN),
    )


def families(snapshot: Snapshot) -> list[Metric]:
    """The metric families of one snapshot, in the order they are served."""
    now = snapshot.now
    kinds = sorted(set(snapshot.kind_counts) | set(snapshot.oldest_queued))
    jobs = GaugeMetricFamily(
        "jobdeck_jobs", "Jobs stored now, by kind and status.", labels=["kind", "status"]
    )
    depth = GaugeMetricFamily(
        "jobdeck_queue_depth",
        "Queued jobs (ready, or waiting for a later run time), by kind.",
        labels=["kind"],
    )
    oldest = GaugeMetricFamily(
        "jobdeck_oldest_queued_age_seconds",
        "How long the longest-waiting ready job of each kind has waited (0 when none waits).",
        labels=["kind"],
        unit="seconds",
    )
    for kind in kinds:
        counts = snapshot.kind_counts.get(kind, {})
        for status in Status:
            jobs.add_metric([kind, status.value], counts.get(status, 0))
        depth.add_metric([kind], counts.get(Status.QUEUED, 0))
        since = snapshot.oldest_queued.get(kind)
        oldest.add_metric([kind], 0.0 if since is None else max(0.0, now - since))
    out: list[Metric] = [jobs, depth, oldest]
    out += _counters(snapshot.rows)
    out.append(_run_seconds(snapshot.rows))
    out.append(
        GaugeMetricFamily(
            "jobdeck_workers_alive",
            "Workers heard from within two of their lease lengths.",
            value=snapshot.workers_alive,
        )
    )
    return out


def _counters(rows: Iterable[RollupRow]) -> list[Metric]:
    """One counter per outcome (by kind, and by reason code where one applies), and the lease
    recoveries: the jobs lease recovery requeued or failed (reason code `lost_lease`)."""
    totals: dict[tuple[Outcome, str, str], int] = {}
    recoveries: dict[str, int] = {}
    for row in rows:
        key = (row.outcome, row.kind, row.code)
        totals[key] = totals.get(key, 0) + row.n
        if row.code == LEASE_LOST:
            recoveries[row.kind] = recoveries.get(row.kind, 0) + row.n
    out: list[Metric] = []
    for outcome, name, text, by_code in COUNTERS:
        family = CounterMetricFamily(name, text, labels=["kind", "code"] if by_code else ["kind"])
        summed: dict[tuple[str, ...], int] = {}
        for (counted, kind, code), n in totals.items():
            if counted is outcome:
                labels: tuple[str, ...] = (kind, code) if by_code else (kind,)
                summed[labels] = summed.get(labels, 0) + n
        for labels, n in sorted(summed.items()):
            family.add_metric(list(labels), n)
        out.append(family)
    lost = CounterMetricFamily(
        "jobdeck_lease_recoveries",
        "Jobs whose worker stopped renewing the lease, requeued or failed by lease recovery.",
        labels=["kind"],
    )
    for kind, n in sorted(recoveries.items()):
        lost.add_metric([kind], n)
    out.append(lost)
    return out


def _run_seconds(rows: Iterable[RollupRow]) -> Metric:
    """The run-time histogram of attempts, by kind and how the attempt ended (done, failed,
    retried, cancelled), with the rollup's bucket bounds as `le`."""
    summed: dict[tuple[str, str], tuple[list[int], float]] = {}
    for row in rows:
        if not any(row.histogram):
            continue  # a denial or a cancel of a queued job: it never ran
        counts, total = summed.get((row.kind, row.outcome.value), ([0] * len(_LE), 0.0))
        for i, n in enumerate(row.histogram):
            counts[i] += n
        summed[(row.kind, row.outcome.value)] = (counts, total + row.run_time)
    family = HistogramMetricFamily(
        "jobdeck_job_run_seconds",
        "How long attempts ran, by kind and how they ended.",
        labels=["kind", "outcome"],
        unit="seconds",
    )
    for labels, (counts, total) in sorted(summed.items()):
        cumulative, buckets = 0, []
        for le, n in zip(_LE, counts, strict=True):
            cumulative += n
            buckets.append((le, cumulative))
        family.add_metric(list(labels), buckets, total)
    return family


class StoreCollector(Collector):
    """A prometheus-client collector that reads a snapshot per scrape with `snapshot()` (see
    `on_loop`) and answers its families, with `jobdeck_up` 1; 0 alone when the read failed."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("jobdeck_up", "Whether this scrape could read the database.")
        try:
            snapshot = self._snapshot()
        except (JobdeckError, TimeoutError) as err:
            log.warning("metrics: could not read the database: %s", err or "timed out")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families(snapshot)


def on_loop(
    store: Store,
    loop: asyncio.AbstractEventLoop,
    *,
    clock: Callable[[], float] = time.time,
    timeout: float = SCRAPE_TIMEOUT,
) -> Callable[[], Snapshot]:
    """A blocking `read(store)` for another thread: the reads run on `loop`, the loop that owns
    the store (a worker's, or a LoopThread's), and the caller waits at most `timeout` seconds
    (then TimeoutError). The rollup's sums are kept between calls (`Totals`)."""
    totals = Totals()

    def snapshot() -> Snapshot:
        future = asyncio.run_coroutine_threadsafe(read(store, clock(), totals), loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    return snapshot


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes come every few seconds: log none of them."""


def _app(registry: CollectorRegistry) -> Callable[..., list[bytes]]:
    """`/metrics` as prometheus-client serves it, `/` a line that points to it, nothing else."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PATH:
            answer: list[bytes] = metrics(environ, start_response)
            return answer
        status, body = (
            ("200 OK", f"jobdeck: the metrics are at {PATH}\n")
            if path == "/"
            else ("404 Not Found", f"jobdeck serves {PATH} only\n")
        )
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [body.encode()]

    return app


class MetricsServer:
    """`/metrics` served on a daemon thread until `close()`."""

    def __init__(self, collector: Collector, host: str, port: int) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        family = _family(host, port)

        class Server(ThreadingWSGIServer):
            address_family = family

        try:
            self._server = make_server(host, port, _app(registry), Server, handler_class=_Quiet)
        except OSError as err:
            raise InvalidInput(f"cannot listen on {_shown(host, port)}: {_why(err)}.") from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="jobdeck-metrics", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """The host and port it listens on (the port chosen when 0 was asked for)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        return f"http://{_shown(*self.address)}{PATH}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _family(host: str, port: int) -> socket.AddressFamily:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(f"cannot listen on {_shown(host, port)}: no such host.") from None
    return infos[0][0]


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _why(err: OSError) -> str:
    import errno

    if err.errno == errno.EADDRINUSE:
        return "the port is already in use"
    if err.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if err.errno == errno.EADDRNOTAVAIL:
        return "the address is not one of this machine's"
    return err.strerror or str(err)


def serve(store: Store, loop: asyncio.AbstractEventLoop, host: str, port: int) -> MetricsServer:
    """Serve the metrics of `store` (whose reads run on `loop`) at http://host:port/metrics.
    Raises InvalidInput (one sentence) when it cannot listen there."""
    return MetricsServer(StoreCollector(on_loop(store, loop)), host, port)


__all__ = ["MetricsServer", "Snapshot", "StoreCollector", "families", "on_loop", "read", "serve"]
