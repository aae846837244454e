"""The Failed pane grouped by reason code: one row per code with its count, largest first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from jobdeck.tui.messages import GroupChosen


class FailureGroups(DataTable[str | Text]):
    """Rows keyed by reason code. Enter posts GroupChosen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._groups: list[tuple[str, int]] = []

    def on_mount(self) -> None:
        self.add_column("reason", key="code")
        self.add_column(Text("jobs", justify="right"), key="n")

    @property
    def selected_code(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show(self, groups: list[tuple[str, int]]) -> None:
        if groups == self._groups:
            return
        selected = self.selected_code
        self._groups = groups
        self.clear()
        for code, n in groups:
            self.add_row(code, Text(f"{n:,}", justify="right"), key=code)
        codes = [code for code, _ in groups]
        if selected in codes:
            self.move_cursor(row=codes.index(selected), animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(GroupChosen(event.row_key.value))
