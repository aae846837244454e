"""One status pane: its count in the title and the visible page of its jobs, newest first.

The pane keeps the cursor on the same job while rows move, and redraws only the cells that
changed, so a live tick neither flickers nor steals the selection.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable

from jobdeck.core import Job, Status
from jobdeck.tui.messages import GroupChosen, JobChosen, JobHighlighted
from jobdeck.tui.widgets import cells
from jobdeck.tui.widgets.failure_groups import FailureGroups

Cell = str | Text
PADDING = 1  # DataTable's cell padding, on each side of each column
DEFAULT_ROWS = 20


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    priority: int  # the highest is dropped first when the pane is narrow
    flex: bool = False
    cap: int = 0  # how wide a flexible column grows when another flexible one follows it


ID = Column("id", "id", cells.SHORT_ID, 0)
KIND = Column("kind", "kind", 10, 3, flex=True, cap=14)
ATTEMPT = Column("attempt", "att", 5, 4)
CODE = Column("code", "reason", 10, 1, flex=True)
CATEGORY = Column("category", "category", 10, 1)

PANES: dict[Status, tuple[str, str, bool]] = {
    # status: (title, label of the time column, newest first)
    Status.QUEUED: ("Queued", "wait", False),
    Status.RUNNING: ("Running", "for", False),
    Status.DONE: ("Done", "age", True),
    Status.FAILED: ("Failed", "age", True),
}


def columns_for(status: Status, width: int) -> list[Column]:
    """The columns that fit in `width` cells, the flexible ones widened to fill it."""
    # A narrow Failed pane keeps what failed and why before when.
    time = Column("time", PANES[status][1], 5, 2 if status is Status.FAILED else 0)
    wanted = [ID, KIND, ATTEMPT, time]
    if status is Status.FAILED:
        wanted = [ID, KIND, ATTEMPT, CODE, CATEGORY, time]
    chosen = list(wanted)
    while len(chosen) > 2 and sum(c.width + 2 * PADDING for c in chosen) > width:
        chosen.remove(max(chosen, key=lambda c: c.priority))
    spare = width - sum(c.width + 2 * PADDING for c in chosen)
    out = []
    flexible = [c for c in chosen if c.flex]
    for column in chosen:
        if column.flex and spare > 0:
            # The last flexible column takes what is left; the others grow to their cap.
            last = column is flexible[-1]
            grow = spare if last else min(spare, column.cap - column.width)
            spare -= grow
            column = Column(column.key, column.label, column.width + grow, column.priority, True)
        out.append(column)
    return out


def job_cells(job: Job, columns: list[Column], now: float) -> tuple[Cell, ...]:
    values: list[Cell] = []
    for column in columns:
        match column.key:
            case "id":
                values.append(cells.short_id(job.id))
            case "kind":
                values.append(job.kind)
            case "attempt":
                values.append(Text(f"{job.attempt}/{job.max_attempts}", justify="right"))
            case "code":
                values.append(job.reason.code if job.reason else "-")
            case "category":
                values.append(cells.category(job.reason.category) if job.reason else "-")
            case _:
                since = job.created_at if job.status is Status.QUEUED else job.updated_at
                values.append(Text(cells.span(now - since), justify="right"))
    return tuple(values)


class JobPane(Vertical):
    """A titled pane of one status. `show()` takes a page of jobs; `tick()` re-ages them."""

    grouped: reactive[bool] = reactive(False)

    def __init__(self, status: Status) -> None:
        super().__init__(id=f"pane-{status.value}", classes="job-pane")
        self.status = status
        self.title, _, self.newest_first = PANES[status]
        self.count = 0
        self._jobs: list[Job] = []
        self._rows: list[tuple[str, tuple[Cell, ...]]] = []
        self._columns: list[Column] = []
        self.border_title = self.title

    def compose(self) -> ComposeResult:
        yield DataTable(id=f"jobs-{self.status.value}", cursor_type="row", cell_padding=PADDING)
        if self.status is Status.FAILED:
            yield FailureGroups(id="groups")

    @property
    def table(self) -> DataTable[Cell]:
        return self.query_one(f"#jobs-{self.status.value}", DataTable)

    @property
    def visible_rows(self) -> int:
        """How many rows fit: the page size to ask for."""
        height = self.table.size.height - 1  # the header row
        return height if height > 0 else DEFAULT_ROWS

    @property
    def selected_id(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @property
    def selected_job(self) -> Job | None:
        job_id = self.selected_id
        return next((job for job in self._jobs if job.id == job_id), None)

    def set_count(self, count: int, filtered: str = "") -> None:
        self.count = count
        self.border_title = f"{self.title} {count:,}"
        subtitle = f"/{filtered}" if filtered else ""
        if self.grouped:
            subtitle = "by reason · enter: show · r: retry group"
        self.border_subtitle = subtitle

    def show(self, jobs: list[Job], now: float) -> None:
        self._jobs = jobs
        self.tick(now)

    def tick(self, now: float) -> None:
        # One cell stays free for a vertical scrollbar, so columns never jump when it shows.
        width = self.table.scrollable_content_region.width - 1
        columns = columns_for(self.status, width if width > 0 else 40)
        if columns != self._columns:
            self._columns = columns
            self._rows = []
            self.table.clear(columns=True)
            for column in columns:
                self.table.add_column(column.label, key=column.key, width=column.width)
        rows = [(job.id, job_cells(job, columns, now)) for job in self._jobs]
        if rows != self._rows:
            self._apply(rows)

    def _apply(self, rows: list[tuple[str, tuple[Cell, ...]]]) -> None:
        table = self.table
        new_keys = [key for key, _ in rows]
        if [key for key, _ in self._rows] == new_keys:
            for (key, new), (_, old) in zip(rows, self._rows, strict=True):
                for column, value, before in zip(self._columns, new, old, strict=True):
                    if value != before:
                        table.update_cell(key, column.key, value)
        else:
            selected, index = self.selected_id, table.cursor_row
            table.clear()
            for key, values in rows:
                table.add_row(*values, key=key)
            if rows:
                target = new_keys.index(selected) if selected in new_keys else index
                table.move_cursor(row=min(max(target, 0), len(rows) - 1), animate=False)
            else:
                self.post_message(JobHighlighted(self.status, None))
        self._rows = rows

    def watch_grouped(self, grouped: bool) -> None:
        self.set_class(grouped, "-grouped")
        self.set_count(self.count)
        if self.status is Status.FAILED and self.has_focus_within:
            target = self.query_one(FailureGroups) if grouped else self.table
            target.focus()

    def focus_pane(self) -> None:
        if self.grouped:
            self.query_one(FailureGroups).focus()
        else:
            self.table.focus()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is not self.table:
            return
        event.stop()
        self.post_message(JobHighlighted(self.status, event.row_key.value))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self.table:
            return
        event.stop()
        if event.row_key.value is not None:
            self.post_message(JobChosen(event.row_key.value))

    @on(GroupChosen)
    def _group(self, event: GroupChosen) -> None:
        self.grouped = False
