"""A table of jobs that redraws only what changed: the lines whose job moved, and within a line
only the cells whose text changed.

Textual's DataTable re-renders every visible cell through Rich whenever any cell changes, which
made each tick of a busy monitor cost a full repaint of every pane. This table keeps one
pre-built line per row, rebuilds a line only when its row changed, and tells the compositor the
exact cells to repaint, so a tick where only ages moved repaints only the age cells.

The table shows as many rows as fit under its header (the pane asks for a page of that size), so
it never scrolls. Its columns are fitted to its width when it is drawn, so the first paint
already has the right ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

PADDING = 1  # blank cells on each side of each column
HEADER_ROWS = 1


class Cell(NamedTuple):
    """What one cell shows: its text, a Rich style for the text (a colour name), and its side.
    A tuple, so comparing a page of rows with the last one is quick."""

    text: str
    style: str = ""
    right: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    priority: int  # the highest is dropped first when the table is narrow
    flex: bool = False
    cap: int = 0  # how wide a flexible column grows when another flexible one follows it


Row = tuple[str, tuple[Cell, ...]]  # a job id and its cells, one per wanted column


def fit_columns(wanted: Sequence[Column], width: int) -> list[Column]:
    """The columns that fit in `width` cells, the flexible ones widened to fill it."""
    chosen = list(wanted)
    while len(chosen) > 2 and sum(c.width + 2 * PADDING for c in chosen) > width:
        chosen.remove(max(chosen, key=lambda c: c.priority))
    spare = width - sum(c.width + 2 * PADDING for c in chosen)
    flexible = [c for c in chosen if c.flex]
    out = []
    for column in chosen:
        if column.flex and spare > 0:
            # The last flexible column takes what is left; the others grow to their cap.
            last = column is flexible[-1]
            grow = spare if last else min(spare, column.cap - column.width)
            spare -= grow
            column = replace(column, width=column.width + grow, cap=0)
        out.append(column)
    return out


def fit_text(text: str, width: int) -> tuple[str, str]:
    """The first line of `text` cut to `width` cells, and the blanks that fill the rest."""
    text = text.partition("\n")[0]
    if cell_len(text) > width:
        text = set_cell_size(text, width)
    return text, " " * (width - cell_len(text))


@dataclass(frozen=True)
class Palette:
    """The styles a render uses, read from CSS once per render: a change (focus moves, the theme
    changes) rebuilds every line."""

    base: Style
    header: Style
    cursor: Style


class JobTable(Widget, can_focus=True):
    """Rows keyed by job id under a header, with a row cursor that stays on its job as rows move.
    (The Schedules view keys its rows by schedule name the same way.)

    `show(rows)` replaces the rows; the cursor follows its job, or keeps its line when the job
    left. Posts Highlighted when the cursor lands on another job and Selected on Enter or a
    click on the cursor's row.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "cursor_first", "First row", show=False),
        Binding("pagedown", "cursor_last", "Last row", show=False),
        Binding("home", "cursor_first", "First row", show=False),
        Binding("end", "cursor_last", "Last row", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"job-table--header", "job-table--cursor"}

    class Highlighted(Message):
        """The cursor moved onto another job (None: the table emptied)."""

        def __init__(self, table: JobTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

    class Selected(Message):
        """The user chose the job under the cursor."""

        def __init__(self, table: JobTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(self, wanted: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._wanted = list(wanted)
        self._rows: list[Row] = []
        self._cursor = 0
        # What the lines were drawn with; a change of either rebuilds every line.
        self._columns: list[tuple[int, Column]] = []  # (index in the wanted cells, column)
        self._fitted_to = -1
        self._palette: Palette | None = None
        self._lines: dict[int, Strip] = {}  # row index -> its line, without the cursor

    # -- what it holds ---------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """The ids of the rows on show, top to bottom."""
        return [key for key, _ in self._rows[: self.capacity]]

    @property
    def capacity(self) -> int:
        """How many rows fit under the header (before layout: every row it holds)."""
        height = self.size.height
        return max(0, height - HEADER_ROWS) if height else len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        keys = self.keys
        return keys[self._cursor] if self._cursor < len(keys) else None

    def cells(self, key: str) -> tuple[Cell, ...]:
        """The cells of the row with this id. Raises KeyError when it is not on show."""
        for row_key, cells in self._rows:
            if row_key == key:
                return cells
        raise KeyError(key)

    # -- changing it -----------------------------------------------------------------------------
    def show(self, rows: Sequence[Row]) -> None:
        """Show these rows, repainting only the cells that differ from what is on screen."""
        old, selected = self._rows, self.selected_key
        new = list(rows)
        if new == old:
            return
        self._rows = new
        capacity = self.capacity
        keys = [key for key, _ in new[:capacity]]
        before = self._cursor
        cursor = keys.index(selected) if selected in keys else min(before, len(keys) - 1)
        self._cursor = max(cursor, 0)
        dirty: list[Region] = []
        for index in range(max(len(old), len(new))):
            was = old[index] if index < len(old) else None
            now = new[index] if index < len(new) else None
            if was != now:
                self._lines.pop(index, None)
                if index < capacity:
                    dirty.extend(self._changed_cells(index, was, now))
        if before != self._cursor:
            dirty.extend([self._line_region(before), self._line_region(self._cursor)])
        if dirty and self._fitted_to >= 0:
            self.refresh(*dirty)
        if self.selected_key != selected:
            self.post_message(self.Highlighted(self, self.selected_key))

    def set_columns(self, wanted: Sequence[Column]) -> None:
        """Show these columns from the next render: the same keys in the same order, so the
        rows' cells still match (a column may change its width or priority)."""
        if list(wanted) == self._wanted:
            return
        self._wanted = list(wanted)
        self._fitted_to = -1  # refit on the next render
        self._lines.clear()
        self.refresh()

    def move_cursor(self, row: int) -> None:
        """Put the cursor on the row at this index (clamped to the rows on show)."""
        last = len(self.keys) - 1
        row = max(0, min(row, last))
        if row == self._cursor or last < 0:
            return
        self.refresh(self._line_region(self._cursor), self._line_region(row))
        self._cursor = row
        self.post_message(self.Highlighted(self, self.selected_key))

    def _line_region(self, index: int) -> Region:
        return Region(0, HEADER_ROWS + index, self.size.width, 1)

    def _changed_cells(self, index: int, was: Row | None, now: Row | None) -> list[Region]:
        """The regions to repaint for one row: its changed cells when the same job stays on
        the line, the whole line otherwise."""
        if was is None or now is None or was[0] != now[0] or not self._columns:
            return [self._line_region(index)]
        regions = []
        x = 0
        for cell_index, column in self._columns:
            span = column.width + 2 * PADDING
            if was[1][cell_index] != now[1][cell_index]:
                regions.append(Region(x, HEADER_ROWS + index, span, 1))
            x += span
        return regions

    # -- drawing ---------------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        # The rows on show may have changed; keep the cursor on one of them.
        self.move_cursor(self._cursor)

    def render_lines(self, crop: Region) -> list[Strip]:
        palette = Palette(
            self.rich_style,
            self.get_component_rich_style("job-table--header"),
            self.get_component_rich_style("job-table--cursor"),
        )
        # One cell of margin at the right edge, as the monitor has always had.
        width = self.size.width - 1
        if palette != self._palette or width != self._fitted_to:
            self._palette, self._fitted_to = palette, width
            index = {column.key: i for i, column in enumerate(self._wanted)}
            self._columns = [(index[c.key], c) for c in fit_columns(self._wanted, width)]
            self._lines.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        palette = self._palette
        assert palette is not None  # render_lines sets it before any line is drawn
        width = self.size.width
        if y < HEADER_ROWS:
            labels = [Cell(column.label) for _, column in self._columns]
            return self._line(-1, labels, palette.header, None, width)
        index = y - HEADER_ROWS
        if index >= len(self._rows):
            return Strip.blank(width, palette.base)
        cells = self._rows[index][1]
        shown = [cells[i] for i, _ in self._columns]
        if index == self._cursor:
            return self._line(index, shown, palette.base + palette.cursor, palette.cursor, width)
        line = self._lines.get(index)
        if line is None:
            line = self._lines[index] = self._line(index, shown, palette.base, None, width)
        return line

    def _line(
        self, row: int, cells: Sequence[Cell], style: Style, cursor: Style | None, width: int
    ) -> Strip:
        """One line of cells (row -1 is the header). Each cell's segments carry its row and
        column, which is how a click finds its row (and keeps the cells apart, as DataTable's
        were). Under the cursor its colour wins over a cell's own; blanks take the line's style,
        not the text's."""
        pad = " " * PADDING
        over = Style.from_color(cursor.color) if cursor is not None else Style.null()
        segments = []
        for column, (cell, (_, fitted)) in enumerate(zip(cells, self._columns, strict=True)):
            text, fill = fit_text(cell.text, fitted.width)
            lead, trail = (pad + fill, pad) if cell.right else (pad, fill + pad)
            cell_style = style + Style.from_meta({"row": row, "column": column})
            text_style = cell_style + Style.parse(cell.style) + over if cell.style else cell_style
            if text_style == cell_style:
                segments.append(Segment(lead + text + trail, cell_style))
            else:
                segments += [
                    Segment(lead, cell_style),
                    Segment(text, text_style),
                    Segment(trail, cell_style),
                ]
        # The blanks past the last column carry the row too: a click there picks it as well.
        return Strip(segments).adjust_cell_length(width, style + Style.from_meta({"row": row}))

    # -- keys and mouse --------------------------------------------------------------------------
    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.move_cursor(len(self.keys) - 1)

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        index = event.style.meta.get("row", -1)
        if not 0 <= index < len(self.keys):
            return
        if index == self._cursor:
            self.action_select()
        else:
            self.move_cursor(index)
