"""The text and JSON forms of the system around the jobs: registered workers and per-kind stats
(`jobdeck workers`, `jobdeck stats`). Text a worker or a kind wrote to the database is shown
escaped: a newer jobdeck or a hostile host name never gets a control character to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jobdeck.tui.render import iso

if TYPE_CHECKING:
    from jobdeck.core.system import KindStats, WorkerState

TEXT_LIMIT = 64  # characters of one stored text shown in a table cell


def shown(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` on one line with every character that is not printable escaped (`\\x1b`,
    `\\n`), cut to `limit` characters with an ellipsis."""
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def seconds(value: float | None) -> str:
    """A span as a person reads it: 350 ms, 4.2 s, 12 min, 3.5 h, 2.0 d; `-` for none."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    if value < 3600:
        return f"{value / 60:.0f} min"
    if value < 86_400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86_400:.1f} d"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Columns padded to their widest cell; the first `left` columns flush left, the others
    right (numbers)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# -- workers -----------------------------------------------------------------------------------


def worker_json(w: WorkerState, now: float) -> dict[str, Any]:
    return {
        "name": w.name,
        "host": w.host,
        "pid": w.pid,
        "version": w.version,
        "started_at": iso(w.started_at),
        "uptime": round(w.uptime(now), 3),
        "last_seen": iso(w.last_seen),
        "last_seen_ago": round(max(0.0, now - w.last_seen), 3),
        "lease": w.lease,
        "concurrency": w.concurrency,
        "kinds": list(w.kinds),
        "running": w.running,
        "done_5m": w.done_5m,
        "failed_5m": w.failed_5m,
        "gone": w.gone(now),
    }


def workers_text(workers: Sequence[WorkerState], now: float) -> str:
    """One worker a line: where it runs, for how long, when it was last heard of, what it runs
    now and what it finished in its last 5 minutes; a worker silent past two leases is gone."""
    if not workers:
        return (
            "no worker is registered (a worker registers when it starts; one silent for an "
            "hour is dropped)."
        )
    header = ("worker", "host", "pid", "version", "up", "seen", "running", "done 5m", "failed 5m")
    rows = [
        (
            shown(w.name) + ("  (gone)" if w.gone(now) else ""),
            shown(w.host),
            str(w.pid),
            shown(w.version, 16),
            seconds(w.uptime(now)),
            f"{seconds(max(0.0, now - w.last_seen))} ago",
            f"{w.running}/{w.concurrency}",
            str(w.done_5m),
            str(w.failed_5m),
        )
        for w in workers
    ]
    return _table(header, rows, left=4)


# -- kinds -------------------------------------------------------------------------------------


def _rate(per_min: float) -> str:
    return f"{per_min:.1f}" if per_min < 100 else f"{per_min:.0f}"


def kind_stats_json(s: KindStats) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "counts": {str(status): n for status, n in s.counts.items()},
        "done_per_min": {f"{m}m": round(v, 3) for m, v in s.done_per_min.items()},
        "failed_per_min": {f"{m}m": round(v, 3) for m, v in s.failed_per_min.items()},
        "failure_rate": None if s.failure_rate is None else round(s.failure_rate, 4),
        "run_time": {"p50": s.p50, "p95": s.p95, "p99": s.p99},
        "oldest_queued_wait": (
            None if s.oldest_queued_wait is None else round(s.oldest_queued_wait, 3)
        ),
    }


def kind_stats_text(stats: Sequence[KindStats], window: str) -> str:
    """One kind a line: jobs per status, done and failed a minute over the last 1, 5 and 15
    minutes, then the failure rate and run-time percentiles over `window`, and how long the
    oldest queued job has waited."""
    if not stats:
        return "no jobs yet."
    header = (
        "kind", "queued", "running", "done", "failed", "done/min 1m 5m 15m",
        "failed/min 1m 5m 15m", f"failed {window}", "p50", "p95", "p99", "oldest queued",
    )  # fmt: skip
    rows = []
    for s in stats:
        counts = {str(status): n for status, n in s.counts.items()}
        rows.append(
            (
                shown(s.kind),
                str(counts.get("queued", 0)),
                str(counts.get("running", 0)),
                str(counts.get("done", 0)),
                str(counts.get("failed", 0)),
                " ".join(_rate(v) for v in s.done_per_min.values()),
                " ".join(_rate(v) for v in s.failed_per_min.values()),
                "-" if s.failure_rate is None else f"{s.failure_rate:.1%}",
                seconds(s.p50),
                seconds(s.p95),
                seconds(s.p99),
                seconds(s.oldest_queued_wait),
            )
        )
    return _table(header, rows)
