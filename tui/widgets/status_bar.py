"""The top line: which database, how many workers are alive, how fast jobs finish, the
paused kinds and the mode, led by "store unreachable, retrying" while the database is out of
reach; under it, when any kind has a limit, one line of the limited kinds
and what they use."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from jobdeck.core.limits import LimitState

# Kinds named on the limits line before the rest are counted (keeps it one line at 80 columns).
SHOWN_LIMITS = 3


class StatusBar(Static):
    def __init__(self, db: str, *, mode: str) -> None:
        super().__init__(id="status-bar")
        self.db = db
        self.mode = mode
        self.alive: int | None = None
        self.rate = 0.0
        self.paused: tuple[str, ...] = ()
        self.limits: list[LimitState] = []
        self.unreachable = False

    def on_mount(self) -> None:
        self._draw()

    def show(
        self,
        workers: int,
        rate: float,
        paused: tuple[str, ...] = (),
        limits: Sequence[LimitState] = (),
    ) -> None:
        limits = list(limits)
        now = (workers, round(rate, 1), paused, limits)
        if now != (self.alive, round(self.rate, 1), self.paused, self.limits):
            self.alive, self.rate, self.paused, self.limits = workers, rate, paused, limits
            self._draw()

    def set_unreachable(self, unreachable: bool) -> None:
        """Say (or stop saying) that the last read could not reach the database."""
        if unreachable != self.unreachable:
            self.unreachable = unreachable
            self._draw()

    def _draw(self) -> None:
        line = Text()
        line.append(" jobdeck ", style="bold reverse")
        if self.unreachable:  # first: the rest of the line is as of the last good read
            line.append("  store unreachable, retrying", style="bold red")
        line.append(f"  {self.db}", style="bold")
        workers = "-" if self.alive is None else str(self.alive)
        line.append(f"  workers {workers}")
        line.append(f"  jobs/s {self.rate:.1f}")
        if self.paused:  # before the mode: at 80 columns the line's end is cut off
            line.append(f"  paused: {', '.join(self.paused)}", style="bold yellow")
        if self.mode:
            line.append(f"  {self.mode}", style="bold")
        if self.limits:
            line.append("\n")
            line.append_text(limits_line(self.limits))
        self.update(line)


def limits_line(limits: Sequence[LimitState]) -> Text:
    """` limited  mail 2/2 run FULL · feed 40/100 per minute left  +2 more`: a kind at its limit
    says FULL in words, so it reads the same without colour."""
    line = Text(" limited ", style="bold")
    for i, state in enumerate(limits[:SHOWN_LIMITS]):
        line.append("  " if i == 0 else " · ")
        line.append(state.kind, style="bold")
        if state.concurrency is not None:
            line.append(f" {state.running}/{state.concurrency} run")
        if state.rate is not None and state.tokens is not None:
            line.append(f" {state.tokens}/{state.rate.count} per {state.rate.per}")
        if state.full:
            line.append(" FULL", style="bold red")
    if len(limits) > SHOWN_LIMITS:
        line.append(f"  +{len(limits) - SHOWN_LIMITS} more (jobdeck limits)")
    return line
