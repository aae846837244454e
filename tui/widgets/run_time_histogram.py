"""A kind's run-time histogram: one line per bucket of `RUN_TIME_BOUNDS`, a bar as long as its
share of the largest bucket, and the count in words. The empty buckets below the fastest and
above the slowest run are left out, so a kind of millisecond jobs does not scroll past minutes of
nothing."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from jobdeck.core.system import RUN_TIME_BOUNDS
from jobdeck.tui.widgets.kind_list import run_time

EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_STYLE = "cyan"
MAX_BAR = 60  # wider bars only stretch the same picture further from its counts


def bucket_labels() -> list[str]:
    """`≤ 1ms` … `≤ 5m00`, then `> 5m00` for the open last bucket."""
    labels = [f"≤ {run_time(bound)}" for bound in RUN_TIME_BOUNDS]
    return [*labels, f"> {run_time(RUN_TIME_BOUNDS[-1])}"]


def bar(n: int, peak: int, width: int) -> str:
    """A bar of `n` against `peak` filling at most `width` cells, in eighths of a cell; any
    n above zero shows at least a sliver."""
    if n <= 0 or peak <= 0 or width <= 0:
        return ""
    eighths = max(1, round(n / peak * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def histogram_text(histogram: Sequence[int], width: int) -> Text:
    """The histogram's lines, fitted to `width` cells; `no runs` when it is empty."""
    if not any(histogram):
        return Text("no runs in the window", style="dim")
    used = [i for i, n in enumerate(histogram) if n]
    first, last = used[0], used[-1]
    labels = bucket_labels()
    peak = max(histogram)
    total = sum(histogram)
    label_width = max(len(labels[i]) for i in range(first, last + 1))
    count_width = len(f"{peak:,}")
    room = max(1, min(MAX_BAR, width - label_width - count_width - 9))
    text = Text()
    for i in range(first, last + 1):
        n = histogram[i]
        share = f"{n / total * 100:3.0f}%"
        text.append(labels[i].rjust(label_width), style="bold")
        text.append(" ")
        text.append(bar(n, peak, room).ljust(room), style=BAR_STYLE)
        text.append(f" {n:>{count_width},} {share}")
        if i < last:
            text.append("\n")
    return text


class RunTimeHistogram(Static):
    """`show(histogram)` with a `KindStats.histogram`; redraws at its width."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="section")
        self.histogram: tuple[int, ...] = ()
        self.border_title = "Run time"

    def show(self, histogram: Sequence[int], title: str) -> None:
        if self.border_title != title:  # a new title repaints the whole section
            self.border_title = title
        histogram = tuple(histogram)
        if histogram != self.histogram:
            lines = len(histogram_text(self.histogram, 1).plain.splitlines())
            self.histogram = histogram
            # Laid out again only when it has more or fewer lines than before.
            same = lines == len(histogram_text(histogram, 1).plain.splitlines())
            self.refresh(layout=not same)

    def render(self) -> Text:
        return histogram_text(self.histogram, self.size.width)
