"""The `/` filter: text matched against kind, id, reason code and payload in every pane."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import BindingType
from textual.widgets import Input

from jobdeck.tui.messages import FilterChanged, FilterDone


class FilterBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "clear", "Clear filter")]

    def __init__(self) -> None:
        super().__init__(placeholder="filter: kind, id, reason code or payload text", id="filter")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value.strip()))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(FilterDone())

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(FilterChanged(""))
        self.post_message(FilterDone())
