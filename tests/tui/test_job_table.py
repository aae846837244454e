"""The job table: it repaints only the cells that changed, and its cursor follows its job."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot

from jobdeck.tui.widgets.job_table import Cell, Column, JobTable, Row, fit_columns

COLUMNS = [
    Column("id", "id", 6, 0),
    Column("kind", "kind", 10, 3, flex=True),
    Column("time", "age", 5, 0),
]
SPAN = {"id": 8, "kind": 14, "time": 7}  # each column's width with its padding, at width 30


def rows(*ids: str, age: str = "1.0s") -> list[Row]:
    return [(job_id, (Cell(job_id), Cell("demo.echo"), Cell(age, right=True))) for job_id in ids]


class TableApp(App[None]):
    CSS = "JobTable { height: 1fr; width: 30; }"

    def __init__(self) -> None:
        super().__init__()
        self.table = JobTable(COLUMNS)
        self.events: list[tuple[str, str | None]] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_job_table_highlighted(self, event: JobTable.Highlighted) -> None:
        self.events.append(("highlighted", event.key))

    def on_job_table_selected(self, event: JobTable.Selected) -> None:
        self.events.append(("selected", event.key))


def spy_on_refresh(table: JobTable, monkeypatch: pytest.MonkeyPatch) -> list[Sequence[Region]]:
    calls: list[Sequence[Region]] = []
    refresh = table.refresh

    def spy(*regions: Region, **kwargs: bool) -> JobTable:
        calls.append(regions)
        return refresh(*regions, **kwargs)

    monkeypatch.setattr(table, "refresh", spy)
    return calls


async def shown(pilot: Pilot[None], table: JobTable, new: list[Row]) -> None:
    table.show(new)
    await pilot.pause()


async def test_a_changed_age_repaints_only_its_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b", "c"))
        calls = spy_on_refresh(app.table, monkeypatch)
        changed = rows("a", "b", "c")
        changed[1] = ("b", (Cell("b"), Cell("demo.echo"), Cell("2.0s", right=True)))
        app.table.show(changed)
        # Line 0 is the header: row b is line 2; its age cell follows the id and kind.
        assert calls == [(Region(SPAN["id"] + SPAN["kind"], 2, SPAN["time"], 1),)]


async def test_rows_that_did_not_change_repaint_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b"))
        calls = spy_on_refresh(app.table, monkeypatch)
        app.table.show(rows("a", "b"))
        assert calls == []


async def test_a_new_job_on_a_line_repaints_that_whole_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b"))
        app.table.move_cursor(1)
        await pilot.pause()
        calls = spy_on_refresh(app.table, monkeypatch)
        app.table.show(rows("a", "x", "b"))
        width = app.table.size.width
        lines = {region.y for call in calls for region in call}
        # x took b's line, b moved down with the cursor; line 1 (row a) stayed as it was.
        assert lines == {2, 3}
        assert all(region.width == width for call in calls for region in call)


async def test_the_cursor_stays_on_its_job_as_rows_move() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b", "c"))
        app.table.move_cursor(1)
        await shown(pilot, app.table, rows("x", "y", "a", "b", "c"))
        assert app.table.selected_key == "b"
        assert app.table.cursor_row == 3


async def test_when_its_job_leaves_the_cursor_keeps_its_line() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b", "c"))
        app.table.move_cursor(1)
        await shown(pilot, app.table, rows("a", "c", "d"))
        assert (app.table.cursor_row, app.table.selected_key) == (1, "c")
        await shown(pilot, app.table, rows("e"))
        assert (app.table.cursor_row, app.table.selected_key) == (0, "e")
        assert app.events[-1] == ("highlighted", "e")


async def test_only_the_rows_that_fit_are_shown() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 4)) as pilot:
        await shown(pilot, app.table, rows("a", "b", "c", "d", "e"))
        assert app.table.capacity == 3
        assert app.table.keys == ["a", "b", "c"]
        await pilot.press("end")
        assert app.table.selected_key == "c"


async def test_keys_move_the_cursor_and_enter_chooses_the_job() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b", "c"))
        app.table.focus()
        await pilot.press("down", "down", "down", "up", "enter")
        await pilot.pause()
        assert app.events[-1] == ("selected", "b")
        assert ("highlighted", "c") in app.events


async def test_a_click_moves_the_cursor_and_a_second_click_chooses() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await shown(pilot, app.table, rows("a", "b", "c"))
        await pilot.click(JobTable, offset=(2, 3))  # line 3: row c
        await pilot.pause()
        assert app.table.selected_key == "c"
        await pilot.click(JobTable, offset=(29, 3))  # past the last column, same row
        await pilot.pause()
        assert app.events[-1] == ("selected", "c")


def test_a_narrow_table_drops_the_columns_that_matter_least() -> None:
    wide = fit_columns(COLUMNS, 40)
    assert [c.key for c in wide] == ["id", "kind", "time"]
    assert sum(c.width + 2 for c in wide) == 40  # the flexible kind column takes the rest
    assert [c.key for c in fit_columns(COLUMNS, 20)] == ["id", "time"]
