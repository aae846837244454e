"""The monitor shows the system: the Workers view, the Kinds view and a kind's detail, the
throughput strip on the main screen, their keys, and what each reads (a closed view nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import settle
from monitor_scenario import START, Clock, Ids

from jobdeck.core import Engine, Status
from jobdeck.storage import open_store
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.kind_detail import KindDetailScreen
from jobdeck.tui.screens.kinds import KindsScreen
from jobdeck.tui.screens.main import MainScreen
from jobdeck.tui.screens.workers import WorkersScreen
from jobdeck.tui.system_scene import WORKERS, build_system, system_registry
from jobdeck.tui.widgets.kind_throughput import KindThroughput
from jobdeck.tui.widgets.run_time_histogram import RunTimeHistogram
from jobdeck.tui.widgets.throughput_strip import ThroughputStrip

SIZE = (120, 36)
API, BATCH, EDGE = (worker.name for worker in WORKERS)


async def system_db(path: Path | str) -> tuple[Clock, dict[str, str]]:
    """Fill a fresh database at `path` (a file, or a PostgreSQL URL) with the system scene;
    returns its clock and picks."""
    clock = Clock(START)
    store = await open_store(str(path))
    try:
        engine = Engine(store, system_registry(clock), clock=clock, ids=Ids())
        picks = await build_system(engine, clock)
    finally:
        await store.close()
    return clock, picks


def app_on(
    path: Path | str, clock: Clock, *, read_only: bool = False, export_dir: Path | None = None
) -> JobdeckApp:
    async def factory() -> Engine:
        store = await open_store(str(path), read_only=read_only)
        return Engine(store, system_registry(clock), clock=clock, ids=Ids())

    return JobdeckApp(
        engine_factory=factory,
        db_label="jobs.db",
        allow_faults=True,
        read_only=read_only,
        tick=None,
        export_dir=export_dir or Path(path).parent,
    )


@pytest.fixture
async def system(tmp_path: Path) -> tuple[Path, Clock, dict[str, str]]:
    path = tmp_path / "system.db"
    clock, picks = await system_db(path)
    return path, clock, picks


@pytest.fixture
def make_system_app(system: tuple[Path, Clock, dict[str, str]]) -> Callable[..., JobdeckApp]:
    path, clock, _ = system
    return lambda **kw: app_on(path, clock, **kw)


def main_screen(app: JobdeckApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def row(table: Any, key: str) -> list[str]:
    return [cell.text for cell in table.cells(key)]


async def test_w_lists_every_worker_with_what_it_runs_and_how_it_went(
    make_system_app: Callable[..., JobdeckApp],
) -> None:
    app = make_system_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkersScreen)
        table = screen.worker_list.table
        # Alive ones first, by name; the gone one last.
        assert table.keys == [API, BATCH, EDGE]
        assert str(screen.worker_list.border_title) == "Workers 2 · 1 gone"
        # The header counts the workers alive, in the main screen's status line's words.
        assert "  workers 2  " in str(screen.title_bar.render())
        api = row(table, API)
        assert api[:4] == [API, "alive", "api-1", "41876"]
        assert api[4:] == ["3h00", "3.0s", "2/8", "214", "9", "mail.send", "0.9.0"]
        assert row(table, BATCH)[6] == "2/4"
        assert row(table, BATCH)[9] == "any"
        edge = row(table, EDGE)
        assert edge[1] == "gone"
        assert edge[2] == "edge\\x1b[2J-7"  # escaped, never sent to the terminal
        assert edge[5] == "4m00"
        assert edge[10] == "1.4.0-next"


async def test_enter_on_a_worker_filters_the_panes_to_its_running_jobs(
    make_system_app: Callable[..., JobdeckApp],
) -> None:
    app = make_system_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        everyone = main.pane(Status.RUNNING).table.keys
        assert len(everyone) == 4
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("enter")  # the first row: api-1
        await settle(pilot)
        assert app.screen is main
        running = main.pane(Status.RUNNING)
        mine = running.table.keys
        jobs = [await app.engine.store.get(job_id) for job_id in mine]
        assert len(mine) == 2 and all(job.lease_owner == API for job in jobs)
        assert str(running.border_title) == "Running 2"
        assert str(running.border_subtitle) == f"worker {API} · esc: all"
        for status in (Status.QUEUED, Status.DONE, Status.FAILED):
            assert main.pane(status).table.keys == []
            assert str(main.pane(status).border_subtitle) == f"worker {API}: running only"
        assert main.active_bindings["escape"].binding.action == "clear_worker"
        await pilot.press("escape")
        await settle(pilot)
        assert sorted(running.table.keys) == sorted(everyone)
        assert main.pane(Status.DONE).table.keys != []
        assert str(running.border_subtitle) == ""


async def test_k_lists_every_kind_and_sorts_by_any_column(
    make_system_app: Callable[..., JobdeckApp],
) -> None:
    app = make_system_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KindsScreen)
        kinds = screen.kind_list
        assert kinds.table.keys == ["image.resize", "mail.send", "report.build"]
        assert str(kinds.border_title) == "Kinds 3 · last 15m · by kind"
        mail = row(kinds.table, "mail.send")
        assert mail[1:3] == ["0", "2"]  # queued, running
        assert mail[11] != "-" and mail[11].endswith("%")  # one mail in seven fails
        # p50 < p95 < p99 of report.build, read from its histogram
        report = row(kinds.table, "report.build")
        assert report[12:15] == [x for x in report[12:15] if x != "-"]
        await pilot.press("s")  # queued, largest first
        await settle(pilot)
        assert kinds.sorted_by == "queued" and kinds.descending
        assert "by queued" in str(kinds.border_title)
        for _ in range(12):  # on to p95
            await pilot.press("s")
        await settle(pilot)
        assert kinds.sorted_by == "p95"
        assert kinds.table.keys == ["report.build", "image.resize", "mail.send"]
        await pilot.press("r")
        await settle(pilot)
        assert kinds.table.keys == ["mail.send", "image.resize", "report.build"]


async def test_enter_on_a_kind_shows_its_run_times_and_throughput_over_time(
    make_system_app: Callable[..., JobdeckApp],
) -> None:
    app = make_system_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        kinds = app.screen
        assert isinstance(kinds, KindsScreen)
        kinds.kind_list.table.move_cursor(2)  # report.build
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, KindDetailScreen) and detail.kind == "report.build"
        histogram = detail.query_one(RunTimeHistogram)
        lines = histogram.render().plain.splitlines()
        # Its run times are 0.6 to 3.8 s: the buckets from ≤ 1s to ≤ 5s, nothing faster.
        assert [line.split()[1] for line in lines] == ["1.0s", "2.5s", "5.0s"]
        assert "runs" in str(histogram.border_title)
        throughput = detail.query_one(KindThroughput)
        assert any(throughput.done) and not any(throughput.failed)
        assert len(throughput.done) == 90  # every 10-second bucket of 15 minutes
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, KindsScreen)


async def test_the_strip_shows_done_failed_and_the_queue_over_five_minutes(
    make_system_app: Callable[..., JobdeckApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_system_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        strip = app.screen.query_one(ThroughputStrip)
        assert strip.region.height == 1
        throughput = strip.throughput
        assert throughput is not None
        assert sum(throughput.done) > 0 and sum(throughput.failed) > 0
        assert throughput.queued_now == 22
        text = strip.render().plain
        # The words and the bars' heights carry it without colour.
        assert text.startswith("done ")
        assert " failed " in text and " queued " in text and text.rstrip().endswith(" 22")
        assert any(bar in text for bar in "▁▂▃▄▅▆▇█")
        # At 80×24 every pane keeps its rows under the strip.
        for status in Status:
            assert main_screen(app).pane(status).region.height >= 8


async def test_the_strip_takes_two_lines_on_a_tall_terminal(
    make_system_app: Callable[..., JobdeckApp],
) -> None:
    app = make_system_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        strip = app.screen.query_one(ThroughputStrip)
        assert strip.region.height == 2
        top, bottom = strip.render().plain.splitlines()
        assert top.startswith("done ") and "failed" in top and "queued" in top
        assert bottom.split()[0].endswith("/s")


class Calls:
    """Counts the engine's system reads."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n: dict[str, int] = {}
        for name in ("workers", "kind_stats", "throughput"):
            monkeypatch.setattr(engine, name, self.counting(name, getattr(engine, name)))

    def counting(
        self, name: str, read: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.n[name] = self.n.get(name, 0) + 1
            return await read(*args, **kwargs)

        return counted


async def test_closed_views_read_nothing_and_the_strip_reads_the_rollup_once_a_bucket(
    make_system_app: Callable[..., JobdeckApp],
    system: tuple[Path, Clock, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = system[1]
    app = make_system_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = Calls(app.engine, monkeypatch)
        main = main_screen(app)
        for _ in range(3):  # quiet ticks in the same 10-second bucket
            main.refresh_data()
            await settle(pilot)
        assert calls.n == {}
        clock.advance(10)  # the next bucket: the strip moves
        main.refresh_data()
        await settle(pilot)
        assert calls.n == {"throughput": 1}
        await pilot.press("k")
        await settle(pilot)
        assert calls.n == {"throughput": 1, "kind_stats": 1}
        await pilot.press("escape")
        await settle(pilot)
        main.refresh_data()
        await settle(pilot)
        assert calls.n == {"throughput": 1, "kind_stats": 1}
        await pilot.press("w")
        await settle(pilot)
        assert calls.n["workers"] == 1


async def test_w_and_k_are_in_the_footer_when_it_has_room_the_help_and_the_palette(
    make_system_app: Callable[..., JobdeckApp],
) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    from jobdeck.tui.screens.help import KEYS

    app = make_system_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for key, words in (("w", "Workers"), ("k", "Kinds")):
            shown = app.screen.active_bindings[key]
            assert shown.binding.show and shown.binding.description == words
            assert key in {k for k, _ in KEYS}
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(OptionList)
        titles = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(t.startswith("Workers\n") for t in titles)
        assert any(t.startswith("Kinds\n") for t in titles)


@pytest.mark.parametrize("width", [80, 119])
async def test_below_120_columns_w_and_k_answer_unlisted_and_quit_and_help_stay(
    make_system_app: Callable[..., JobdeckApp], width: int
) -> None:
    from textual.widgets import Footer

    app = make_system_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        shown = {key for key, b in app.screen.active_bindings.items() if b.binding.show}
        assert "w" not in shown and "k" not in shown
        assert {"q", "question_mark"} <= shown
        footer = app.screen.query_one(Footer)
        assert footer.virtual_size.width <= width  # nothing cut off at the right
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, KindsScreen)
        await pilot.press("w")  # from one view to the other
        await settle(pilot)
        assert isinstance(app.screen, WorkersScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_the_views_fit_80_by_24(make_system_app: Callable[..., JobdeckApp]) -> None:
    app = make_system_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkersScreen)
        # Who, whether alive, what it runs now and how it went stay at 80 columns.
        fitted = {c.key for _, c in screen.worker_list.table._columns}
        assert {"name", "state", "running", "done", "failed", "seen"} <= fitted
        await pilot.press("k")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KindsScreen)
        fitted = {c.key for _, c in screen.kind_list.table._columns}
        assert {"kind", "queued", "running", "p95", "oldest"} <= fitted


async def test_a_storage_error_in_a_view_is_one_notification(
    make_system_app: Callable[..., JobdeckApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck.core import StorageError

    app = make_system_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)

        async def broken(now: float) -> None:
            raise StorageError("the database is locked.")

        monkeypatch.setattr(app.engine.store, "workers", broken)
        screen = app.screen
        assert isinstance(screen, WorkersScreen)
        for _ in range(3):
            screen.refresh_data()
            await settle(pilot)
        assert [n.message for n in app._notifications].count("the database is locked.") == 1
        assert screen.worker_list.table.keys == [API, BATCH, EDGE]


def test_the_scene_is_the_same_every_time(tmp_path: Path) -> None:
    async def both() -> list[dict[str, str]]:
        return [(await system_db(tmp_path / f"{i}.db"))[1] for i in range(2)]

    first, second = asyncio.run(both())
    assert first == second


async def test_a_worker_row_an_older_or_newer_jobdeck_wrote_shows_without_a_crash(
    system: tuple[Path, Clock, dict[str, str]],
) -> None:
    import sqlite3

    path, clock, _ = system
    with sqlite3.connect(path) as db:
        # An older jobdeck's row (no lease, no start) and a newer one's, with values this
        # version never writes.
        db.execute("INSERT INTO workers (name, last_seen) VALUES ('old-1', ?)", (clock() - 5,))
        db.execute(
            "INSERT INTO workers (name, last_seen, host, pid, version, started_at, lease, "
            "concurrency, kinds, done_5m, failed_5m) "
            "VALUES (?, ?, ?, -3, ?, 1e300, 30, 4, ?, 5, 0)",
            ("new\x1b]0;pwned\x07", clock() - 1, "h\r\nx", "v2\x00", '{"a": 1}'),
        )
    app = app_on(path, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkersScreen)
        table = screen.worker_list.table
        old = row(table, "old-1")
        assert old[1] == "alive"  # seen 5 s ago; its lease unknown, the status line's window
        assert old[2:5] == ["-", "-", "-"]  # host, pid, uptime: not written
        new = row(table, "new\x1b]0;pwned\x07")
        assert new[0] == "new\\x1b]0;pwned\\x07"
        assert new[2] == "h\\r\\nx"
        assert new[3] == "-"
        assert all(text.isprintable() for text in new)


async def view_rows(app: JobdeckApp) -> dict[str, list[list[str]]]:
    """Every row of the Workers and Kinds views, as text."""
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        workers = app.screen
        assert isinstance(workers, WorkersScreen)
        table = workers.worker_list.table
        out = {"workers": [row(table, key) for key in table.keys]}
        await pilot.press("k")
        await settle(pilot)
        kinds = app.screen
        assert isinstance(kinds, KindsScreen)
        table = kinds.kind_list.table
        out["kinds"] = [row(table, key) for key in table.keys]
    return out


async def test_the_views_read_the_same_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "system.db"
    lite_clock, _ = await system_db(path)
    pg_clock, _ = await system_db(pg_url)
    on_sqlite = await view_rows(app_on(path, lite_clock))
    on_postgres = await view_rows(app_on(pg_url, pg_clock, export_dir=tmp_path))
    assert len(on_sqlite["workers"]) == 3 and len(on_sqlite["kinds"]) == 3
    assert on_postgres == on_sqlite
