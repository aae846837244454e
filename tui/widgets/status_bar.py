"""The top line: which database, how many workers are alive, how fast jobs finish, and the mode."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusBar(Static):
    def __init__(self, db: str, *, mode: str) -> None:
        super().__init__(id="status-bar")
        self.db = db
        self.mode = mode
        self.alive: int | None = None
        self.rate = 0.0

    def on_mount(self) -> None:
        self._draw()

    def show(self, workers: int, rate: float) -> None:
        if (workers, round(rate, 1)) != (self.alive, round(self.rate, 1)):
            self.alive, self.rate = workers, rate
            self._draw()

    def _draw(self) -> None:
        line = Text()
        line.append(" jobdeck ", style="bold reverse")
        line.append(f"  {self.db}", style="bold")
        workers = "-" if self.alive is None else str(self.alive)
        line.append(f"  workers {workers}")
        line.append(f"  jobs/s {self.rate:.1f}")
        if self.mode:
            line.append(f"  {self.mode}", style="bold")
        self.update(line)
