"""Every subcommand of `jobdeck` and its flags, and nothing else: what each does lives in the
command modules beside this one."""

from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A value that starts with a minus and a digit (`--done-older-than -1d`) is a value to
        # refuse with its own sentence, not an unknown option (as argparse does from 3.13 on):
        # no jobdeck flag looks like that.
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> NoReturn:
        # The message may quote a stray argument holding a line break: keep it one line.
        self.exit(EXIT_USAGE, f"jobdeck: {printable(message)} (see --help).\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="jobdeck", description="A job engine with a live terminal monitor.")
    p.add_argument(
        "--db",
        default=None,
        help="SQLite file or postgresql:// URL (default: $JOBDECK_DB or ./jobdeck.db)",
    )
    p.add_argument("--handlers", metavar="MODULE:ATTR", help="a Registry of your own kinds")
    p.add_argument("--debug", action="store_true", help="show tracebacks and transition logs")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("submit", help="submit a job (or many with --from)")
    s.add_argument("kind")
    s.add_argument("payload", nargs="?", help="a JSON object, or - to read it from stdin")
    s.add_argument(
        "--from", dest="source", metavar="FILE", help="JSON Lines of payloads (- = stdin)"
    )
    s.add_argument("--key", help="idempotency key (default: hash of kind and payload)")
    later = s.add_mutually_exclusive_group()
    later.add_argument(
        "--in", dest="delay", metavar="DURATION", help="run no sooner than this: 90s, 15m, 2h, 1d"
    )
    later.add_argument(
        "--at",
        dest="run_at",
        metavar="TIME",
        help="run no sooner than this ISO 8601 time (Z or +01:00)",
    )
    s.add_argument("--max-attempts", type=int)
    s.add_argument(
        "--priority",
        metavar="N",
        help="-100 to 100, higher runs first (default: the kind's, else 0)",
    )
    s.add_argument("--wait", action="store_true", help="wait for the final state")
    s.add_argument("--json", action="store_true")

    w = sub.add_parser("worker", help="run jobs")
    w.add_argument("--handlers", dest="worker_handlers", metavar="MODULE:ATTR")
    w.add_argument("--concurrency", type=int, default=4)
    w.add_argument("--burst", action="store_true", help="exit when nothing is queued or running")
    w.add_argument("--lease", type=float, default=30.0, help="lease length in seconds")
    w.add_argument("--kind", action="append", default=[], help="only run these kinds")
    w.add_argument(
        "--retention",
        metavar="done=AGE,failed=AGE|off",
        help="prune finished jobs older than these ages while this worker holds the retention "
        "lease (default done=7d,failed=30d; a status left out keeps its default, AGE may be off; "
        "off: never prune); a --burst worker never prunes",
    )
    w.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="also serve the database's Prometheus metrics at http://HOST:PORT/metrics",
    )

    me = sub.add_parser(
        "metrics",
        help="serve the database's Prometheus metrics over HTTP",
        description="Serve /metrics in the Prometheus text format: jobs by kind and status, "
        "done, failed, retried, denied and cancelled jobs by kind and reason code, attempt run "
        "times, queue depth and the oldest queued job's age by kind, workers alive and lease "
        "recoveries. Each scrape reads the database; payloads and results are never served.",
    )
    me.add_argument(
        "--listen",
        default="127.0.0.1:9108",
        metavar="HOST:PORT",
        help="where to listen (default 127.0.0.1:9108; :9108 for every interface)",
    )

    st = sub.add_parser("status", help="jobs per status")
    st.add_argument("--json", action="store_true")

    ls = sub.add_parser("list", help="list jobs, newest first")
    ls.add_argument("--status", choices=["queued", "running", "done", "failed"])
    ls.add_argument("--kind")
    ls.add_argument(
        "--scheduled", action="store_true", help="only queued jobs not yet due, soonest first"
    )
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--json", action="store_true")

    sh = sub.add_parser("show", help="one job with every attempt and its reason")
    sh.add_argument("id")
    sh.add_argument("--json", action="store_true")

    ev = sub.add_parser("events", help="the transition log")
    ev.add_argument("--since", type=int, default=0, metavar="CURSOR")
    ev.add_argument("--follow", action="store_true")
    ev.add_argument("--json", action="store_true", help="JSON Lines (the default when piped)")

    rr = sub.add_parser("rerun", help="run a job's input again and compare outcomes")
    rr.add_argument("id")
    rr.add_argument("--from-step", metavar="NAME", help="reuse the results of steps before NAME")
    rr.add_argument("--wait", action="store_true")
    rr.add_argument("--json", action="store_true")

    f = sub.add_parser("fail", help="arm a fault: the next attempt(s) fail on purpose")
    f.add_argument("id", nargs="?")
    f.add_argument("--kind", dest="fault_kind")
    mode = f.add_mutually_exclusive_group()
    mode.add_argument("--retryable", action="store_true")
    mode.add_argument("--terminal", action="store_true")
    f.add_argument("--times", type=int, default=1)
    f.add_argument("--reason")
    f.add_argument("--at-step", metavar="NAME", help="fire just before this step")

    cn = sub.add_parser(
        "cancel",
        help="stop a job, or every job of a kind: it ends failed with the reason cancelled",
        description="Cancel a queued job (it ends failed at once and never runs) or a running "
        "one (its worker stops the handler, runs the compensations of its completed steps and "
        "records it failed: within about a second on SQLite, at once on PostgreSQL). With "
        "--kind, every queued (or --status running) job of that kind; prints how many.",
    )
    cn.add_argument("id", nargs="?")
    cn.add_argument("--kind", dest="cancel_kind", metavar="KIND", help="every job of this kind")
    cn.add_argument(
        "--status",
        dest="cancel_status",
        action="append",
        choices=["queued", "running"],
        help="with --kind: which jobs (default queued; give it twice for both)",
    )
    cn.add_argument("--reason", help="why, kept in the job's reason")
    cn.add_argument("--by", help="who cancels (default user@host)")
    cn.add_argument("--json", action="store_true")

    pa = sub.add_parser("pause", help="stop every worker claiming a kind; running jobs finish")
    pa.add_argument("kind")
    pa.add_argument("--reason", help="why, shown with the paused kind")
    pa.add_argument("--by", help="who pauses (default user@host)")
    pa.add_argument("--json", action="store_true")
    re_ = sub.add_parser("resume", help="let workers claim a paused kind again")
    re_.add_argument("kind")
    re_.add_argument("--by", help="who resumes (default user@host)")
    re_.add_argument("--json", action="store_true")
    pd = sub.add_parser("paused", help="the paused kinds, who paused them and why")
    pd.add_argument("--json", action="store_true")

    sc = sub.add_parser("schedules", help="periodic schedules: list, pause, resume")
    sc.add_argument("--json", action="store_true")
    sc_sub = sc.add_subparsers(dest="schedule_action", parser_class=_Parser)
    sp = sc_sub.add_parser("pause", help="stop a schedule making jobs, for every worker")
    sp.add_argument("name")
    sp.add_argument("--reason", help="why, shown with the schedule")
    sp.add_argument("--by", help="who pauses (default user@host)")
    sp.add_argument("--json", action="store_true")
    sr = sc_sub.add_parser("resume", help="let a paused schedule make jobs again from now on")
    sr.add_argument("name")
    sr.add_argument("--by", help="who resumes (default user@host)")
    sr.add_argument("--json", action="store_true")

    b = sub.add_parser(
        "backup",
        help="copy the SQLite database while workers run (PostgreSQL: use pg_dump)",
        description="Copy the live SQLite database through SQLite's online backup API: one "
        "consistent snapshot, taken while workers go on writing, checked, written to a new "
        "owner-only file beside FILE and renamed into place.",
    )
    b.add_argument("file", metavar="FILE", help="where the copy goes (a new file)")
    b.add_argument("--force", action="store_true", help="replace FILE if it exists")
    b.add_argument("--json", action="store_true")

    pr = sub.add_parser(
        "prune",
        help="delete finished jobs past an age, with their attempts, steps and events",
        description="Delete done jobs that finished more than --done-older-than ago and failed "
        "ones past --failed-older-than, with their attempts, steps and events, a small "
        "transaction at a time while workers go on. Never a queued or running job. A rerun "
        "outlives its pruned original; `show` of a pruned id says it was pruned.",
    )
    pr.add_argument("--done-older-than", metavar="AGE", help="such as 7d, 12h or 1h30m")
    pr.add_argument("--failed-older-than", metavar="AGE", help="such as 30d")
    pr.add_argument("--kind", help="only jobs of this kind")
    pr.add_argument(
        "--archive",
        metavar="FILE",
        help="first append each pruned job, with its attempts, steps and events, as one JSON "
        "line to FILE: a missing FILE is created owner-only (0600), an existing one is appended "
        "to and keeps its mode; only what was written and synced to disk is deleted",
    )
    pr.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
    pr.add_argument("--json", action="store_true")

    vac = sub.add_parser(
        "vacuum",
        help="give the space of deleted rows back to the disk and say how much",
        description="Run VACUUM and report the database's size before and after. On SQLite it "
        "needs every other connection (workers, monitors) idle for a moment: it waits up to "
        "5 s, then says the database is in use. On PostgreSQL it vacuums the jobdeck schema's "
        "tables while workers go on.",
    )
    vac.add_argument("--json", action="store_true")

    lim = sub.add_parser(
        "limits",
        help="each kind's concurrency and rate limit, and what is in use now",
        description="The limits workers recorded for their kinds when they started (the last "
        "worker to start wins), each with the kind's running jobs and the claims its rate "
        "still allows now. Every worker on every host obeys them.",
    )
    lim.add_argument("--json", action="store_true")

    wk = sub.add_parser(
        "workers",
        help="registered workers: host, pid, uptime, last heartbeat, jobs now and in 5 minutes",
        description="Every worker registered in the database: where it runs, since when, when "
        "it was last heard of, the jobs it runs now and the jobs it finished and failed in its "
        "last 5 minutes. A worker silent for two lease lengths is marked gone; one silent for "
        "an hour is dropped.",
    )
    wk.add_argument("--json", action="store_true")

    sts = sub.add_parser(
        "stats",
        help="per kind: jobs per status, rates, failure rate, run-time percentiles, queue wait",
        description="Per kind: jobs per status, done and failed a minute over the last 1, 5 "
        "and 15 minutes, the failure rate and run-time p50/p95/p99 over --since, and how long "
        "the oldest queued job has waited. Read from the rollup the workers keep as they go, "
        "never from scanning attempts.",
    )
    sts.add_argument(
        "--since",
        default="15m",
        metavar="DURATION",
        help="the window of the failure rate and percentiles: 90s, 15m, 2h ... at most 24h "
        "(default 15m)",
    )
    sts.add_argument("--kind", help="only this kind")
    sts.add_argument("--json", action="store_true")

    c = sub.add_parser("check", help="run the verification checklist on a fresh database")
    c.add_argument("--json", action="store_true")

    d = sub.add_parser("demo", help="open the monitor with workers and a demo workload")
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--tick", type=float, default=1.0)
    d.add_argument(
        "--fresh", action="store_true", help="delete the database first (default without --db)"
    )

    t = sub.add_parser("tui", help="open the monitor on a database")
    t.add_argument("--allow-faults", action="store_true")
    t.add_argument("--read-only", action="store_true")
    t.add_argument("--tick", type=float, default=1.0)
    return p


def printable(message: str) -> str:
    """One line, whatever the message quotes back (an id or a kind with a newline in it)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
