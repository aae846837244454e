"""The top line: which database, how many workers are alive, how fast jobs finish, the mode,
and the paused kinds."""

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
        self.paused: tuple[str, ...] = ()

    def on_mount(self) -> None:
        self._draw()

    def show(self, workers: int, rate: float, paused: tuple[str, ...] = ()) -> None:
        now = (workers, round(rate, 1), paused)
        if now != (self.alive, round(self.rate, 1), self.paused):
            self.alive, self.rate, self.paused = workers, rate, paused
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
        if self.paused:
            line.append(f"  paused: {', '.join(self.paused)}", style="bold yellow")
        self.update(line)
