"""How the system views draw their numbers: zero-based sparklines, the queue-depth ring, when the
strip reads the rollup again, the kinds' sort, the run-time histogram, and escaped worker text."""

from __future__ import annotations

from jobdeck.core import Status
from jobdeck.core.system import HISTOGRAM_SIZE, KindStats, WorkerState
from jobdeck.tui.throughput import SLOTS, DepthRing, RollupClock
from jobdeck.tui.widgets.cells import printable
from jobdeck.tui.widgets.kind_list import run_time, sort_kinds
from jobdeck.tui.widgets.run_time_histogram import histogram_text
from jobdeck.tui.widgets.spark import fold, spark_rows
from jobdeck.tui.widgets.worker_list import worker_cells

T0 = 1_767_225_600.0


def test_a_steady_rate_draws_full_bars_not_noise() -> None:
    # Scaled from the minimum (as Textual's Sparkline is), 99 against 101 would span the height.
    assert spark_rows([99.0, 101.0, 100.0], 3) == ["███"]


def test_zero_and_unsampled_slots_are_blank_and_any_rate_shows() -> None:
    assert spark_rows([0.0, None, 0.01, 8.0], 4) == ["  ▁█"]


def test_two_lines_split_the_steps() -> None:
    top, bottom = spark_rows([1.0, 2.0, 4.0], 3, height=2)
    assert bottom == "▄██"
    assert top == "  █"


def test_a_long_series_folds_into_its_width_keeping_the_peaks() -> None:
    assert fold([1.0, 5.0, None, 2.0, None, None], 3) == [5.0, 2.0, None]
    assert fold([1.0, 2.0], 5) == [1.0, 2.0]


def test_the_depth_ring_keeps_the_deepest_sample_per_slot_for_five_minutes() -> None:
    ring = DepthRing()
    ring.add(T0, 5)
    ring.add(T0 + 3, 9)
    ring.add(T0 + 6, 2)
    ring.add(T0 + 20, 4)
    series = ring.series(T0 + 20)
    assert len(series) == SLOTS
    assert series[-3:] == [9.0, None, 4.0]
    assert all(value is None for value in series[:-3])
    assert ring.series(T0 + 400) == [None] * SLOTS


def test_the_rollup_is_read_again_on_a_new_bucket_or_after_finished_jobs() -> None:
    clock = RollupClock()
    assert clock.due(T0, finished_since=False)
    clock.read(T0)
    assert not clock.due(T0 + 1, finished_since=True)  # too soon
    assert not clock.due(T0 + 5, finished_since=False)  # nothing finished
    assert clock.due(T0 + 5, finished_since=True)
    assert clock.due(T0 + 10, finished_since=False)  # the next bucket began


def stats(kind: str, p95: float | None, queued: int) -> KindStats:
    counts = {status: 0 for status in Status} | {Status.QUEUED: queued}
    return KindStats(kind, counts, {}, {}, None, None, p95, None, None)


def test_kinds_sort_by_a_column_with_the_unknown_last_either_way() -> None:
    kinds = [stats("b", 0.5, 1), stats("a", None, 3), stats("c", 2.0, 2)]
    assert [s.kind for s in sort_kinds(kinds, "p95", descending=True)] == ["c", "b", "a"]
    assert [s.kind for s in sort_kinds(kinds, "p95", descending=False)] == ["b", "c", "a"]
    assert [s.kind for s in sort_kinds(kinds, "queued", descending=True)] == ["a", "c", "b"]
    assert [s.kind for s in sort_kinds(kinds, "kind", descending=False)] == ["a", "b", "c"]


def test_run_times_read_in_five_characters() -> None:
    assert [run_time(v) for v in (None, 0.0004, 0.0085, 0.12, 2.5, 185.0)] == [
        "-",
        "400µs",
        "8.5ms",
        "120ms",
        "2.5s",
        "3m05",
    ]


def test_the_histogram_leaves_out_the_empty_ends() -> None:
    histogram = [0] * HISTOGRAM_SIZE
    histogram[2], histogram[4] = 10, 5  # ≤ 10ms and ≤ 50ms
    lines = histogram_text(histogram, 60).plain.splitlines()
    assert [line.split()[1] for line in lines] == ["10ms", "25ms", "50ms"]
    assert lines[0].endswith("10  67%")
    assert "█" not in lines[1]
    assert histogram_text([0] * HISTOGRAM_SIZE, 60).plain == "no runs in the window"


def test_control_characters_are_escaped_never_written() -> None:
    assert printable("host-1") == "host-1"
    assert printable("evil\x1b[2J\nhost\x00") == "evil\\x1b[2J\\nhost\\x00"


def test_a_worker_row_from_a_stranger_shows_escaped() -> None:
    worker = WorkerState(
        name="w\x07",
        host="h\x1b[31m",
        pid=-1,
        version="9.0\n",
        started_at=T0 + 100,  # a clock ahead of ours
        last_seen=T0 - 1000,
        lease=30.0,
        concurrency=0,
        kinds=("a\tb",),
        running=0,
        done_5m=0,
        failed_5m=0,
    )
    texts = [cell.text for cell in worker_cells(worker, T0)]
    assert texts[:3] == ["w\\x07", "gone", "h\\x1b[31m"]
    assert texts[4] == "0.0s"
    assert "a\\tb" in texts
    assert "9.0\\n" in texts
    assert all(text.isprintable() for text in texts)
