"""The Prometheus families built from one snapshot of the system's rows: names and labels by the
conventions, counters summed over every bucket (the all-time rows too), cumulative histogram
buckets, ages from the clock, and nothing but kinds, statuses, outcomes and codes as labels."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from jobdeck.core.contract import Status
from jobdeck.core.metrics import Snapshot, StoreCollector, families
from jobdeck.core.system import ALL_TIME, HISTOGRAM_SIZE, Outcome, RollupRow

NOW = 1_800_000_000.0


def row(
    kind: str,
    outcome: Outcome,
    code: str = "",
    n: int = 1,
    *,
    start: float = NOW - 30,
    width: float = 10.0,
    slots: dict[int, int] | None = None,
    run_time: float = 0.0,
) -> RollupRow:
    histogram = [0] * HISTOGRAM_SIZE
    for slot, count in (slots or {}).items():
        histogram[slot] = count
    return RollupRow(start, width, kind, outcome, code, n, tuple(histogram), run_time)


SNAPSHOT = Snapshot(
    now=NOW,
    kind_counts={
        "mail": {Status.QUEUED: 3, Status.RUNNING: 1, Status.DONE: 7, Status.FAILED: 2},
        "resize": {Status.QUEUED: 0, Status.RUNNING: 0, Status.DONE: 1, Status.FAILED: 0},
    },
    rows=[
        # Seven done mail jobs: four in an all-time row, three in a recent bucket.
        row("mail", Outcome.DONE, n=4, start=ALL_TIME, width=0.0, slots={0: 4}, run_time=0.002),
        row("mail", Outcome.DONE, n=3, slots={0: 1, 5: 2}, run_time=0.2),
        row("mail", Outcome.FAILED, "smtp_down", n=1, slots={8: 1}, run_time=0.9),
        row("mail", Outcome.FAILED, "lost_lease", n=1, slots={15: 1}, run_time=400.0),
        row("mail", Outcome.RETRIED, "lost_lease", n=2, slots={15: 2}, run_time=700.0),
        row("mail", Outcome.DENIED, "no_address", n=5),
        row("resize", Outcome.DONE, n=1, slots={3: 1}, run_time=0.02),
        row("resize", Outcome.CANCELLED, "cancelled", n=2),
    ],
    oldest_queued={"mail": NOW - 42.5},
    workers_alive=2,
)


def scraped(snapshot: Snapshot = SNAPSHOT) -> dict[str, Any]:
    """The snapshot served as text and read back with prometheus-client's parser: family name
    -> family."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(lambda: snapshot))
    text = generate_latest(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def values(family: Any, suffix: str = "") -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for s in family.samples
        if s.name == family.name + suffix
    }


def test_every_family_follows_the_naming_conventions() -> None:
    names = {f.name: f.type for f in families(SNAPSHOT)}
    assert names == {
        "jobdeck_jobs": "gauge",
        "jobdeck_queue_depth": "gauge",
        "jobdeck_oldest_queued_age_seconds": "gauge",
        "jobdeck_jobs_done": "counter",
        "jobdeck_jobs_failed": "counter",
        "jobdeck_jobs_retried": "counter",
        "jobdeck_jobs_denied": "counter",
        "jobdeck_jobs_cancelled": "counter",
        "jobdeck_lease_recoveries": "counter",
        "jobdeck_job_run_seconds": "histogram",
        "jobdeck_workers_alive": "gauge",
    }
    labels = {key for f in families(SNAPSHOT) for s in f.samples for key in s.labels}
    assert labels <= {"kind", "status", "code", "outcome", "le"}


def test_gauges_hold_counts_depth_age_and_live_workers() -> None:
    got = scraped()
    assert values(got["jobdeck_up"]) == {(): 1.0}
    jobs = values(got["jobdeck_jobs"])
    assert jobs[(("kind", "mail"), ("status", "queued"))] == 3
    assert jobs[(("kind", "resize"), ("status", "done"))] == 1
    assert len(jobs) == 8  # every status of every kind, zeros too
    assert values(got["jobdeck_queue_depth"]) == {(("kind", "mail"),): 3, (("kind", "resize"),): 0}
    assert values(got["jobdeck_oldest_queued_age_seconds"]) == {
        (("kind", "mail"),): 42.5,
        (("kind", "resize"),): 0.0,
    }
    assert values(got["jobdeck_workers_alive"]) == {(): 2}


def test_counters_sum_every_bucket_by_kind_and_reason_code() -> None:
    got = scraped()
    assert values(got["jobdeck_jobs_done"], "_total") == {
        (("kind", "mail"),): 7,
        (("kind", "resize"),): 1,
    }
    assert values(got["jobdeck_jobs_failed"], "_total") == {
        (("code", "lost_lease"), ("kind", "mail")): 1,
        (("code", "smtp_down"), ("kind", "mail")): 1,
    }
    assert values(got["jobdeck_jobs_retried"], "_total") == {
        (("code", "lost_lease"), ("kind", "mail")): 2
    }
    assert values(got["jobdeck_jobs_denied"], "_total") == {
        (("code", "no_address"), ("kind", "mail")): 5
    }
    assert values(got["jobdeck_jobs_cancelled"], "_total") == {(("kind", "resize"),): 2}
    # Lease recovery requeued two mail jobs and failed one whose attempts were spent.
    assert values(got["jobdeck_lease_recoveries"], "_total") == {(("kind", "mail"),): 3}


def test_the_run_time_histogram_is_cumulative_with_the_rollup_bounds() -> None:
    got = scraped()["jobdeck_job_run_seconds"]
    done = {
        s.labels["le"]: s.value
        for s in got.samples
        if s.name.endswith("_bucket")
        and s.labels["kind"] == "mail"
        and s.labels["outcome"] == "done"
    }
    assert done["0.001"] == 5  # four all-time and one recent in the first bucket
    assert done["0.05"] == 5
    assert done["0.1"] == 7
    assert done["+Inf"] == 7
    assert list(done.values()) == sorted(done.values())
    assert len(done) == HISTOGRAM_SIZE
    sums = values(got, "_sum")
    counts = values(got, "_count")
    assert sums[(("kind", "mail"), ("outcome", "done"))] == 0.202
    assert counts[(("kind", "mail"), ("outcome", "done"))] == 7
    assert counts[(("kind", "mail"), ("outcome", "retried"))] == 2
    # Denied and queued-cancelled jobs never ran: no run time for them.
    outcomes = {s.labels["outcome"] for s in got.samples}
    assert outcomes == {"done", "failed", "retried"}


def test_a_failed_read_answers_up_zero_and_nothing_else() -> None:
    from jobdeck.core.errors import StorageError

    def broken() -> Snapshot:
        raise StorageError("the database is locked.")

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(broken))
    got = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert list(got) == ["jobdeck_up"]
    assert values(got["jobdeck_up"]) == {(): 0.0}


def test_an_empty_database_has_every_family_and_no_samples_to_invent() -> None:
    got = scraped(Snapshot(now=NOW, kind_counts={}, rows=[], oldest_queued={}))
    assert values(got["jobdeck_workers_alive"]) == {(): 0}
    assert values(got["jobdeck_jobs"]) == {}
    assert values(got["jobdeck_jobs_done"], "_total") == {}


def test_the_grafana_dashboard_asks_only_for_metrics_that_are_served() -> None:
    import json
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).parents[2] / "docs/grafana-dashboard.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bjobdeck_\w+", target["expr"])
    }
    served = {s.name for f in scraped().values() for s in f.samples}
    assert asked and asked <= served, asked - served
    # Every kind of number the dashboard promises is there.
    for wanted in ("done_total", "failed_total", "queue_depth", "oldest", "run_seconds", "alive"):
        assert any(wanted in name for name in asked), wanted
