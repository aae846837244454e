"""A kind's throughput over time: done and failed per second in each 10-second slot of the last
15 minutes (the rollup keeps 10-second buckets for 5 minutes; an older minute shows as its
average in each of its slots), as two zero-based sparklines three lines tall, each with its peak
and its last whole bucket in words."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from jobdeck.core.system import BUCKET_SECONDS
from jobdeck.tui.widgets.spark import rate, spark_rows

SPARK_HEIGHT = 3
LABEL = 12  # `failed  peak` / `  99.9/s` beside the bars


def series_text(name: str, values: list[float], colour: str, width: int) -> Text:
    spark = max(1, width - LABEL - 1)
    rows = spark_rows(values, spark, SPARK_HEIGHT)
    peak = max(values, default=0.0)
    now = values[-2] if len(values) > 1 else 0.0
    labels = [(name, "bold"), (f"peak {rate(peak)}", ""), (f"now {rate(now)}", "")]
    text = Text()
    for i, row in enumerate(rows):
        words, style = labels[i] if i < len(labels) else ("", "")
        text.append(words.ljust(LABEL), style=style)
        text.append(" ")
        # Right-aligned: the newest bucket sits at the right edge, whatever the width.
        text.append(row.rjust(spark), style=colour)
        text.append("\n")
    return text


def axis(slots: int, width: int) -> str:
    """`15m ago … now` under the bars, as wide as they are."""
    spark = min(max(1, width - LABEL - 1), slots)
    left = f"{slots * BUCKET_SECONDS / 60:.0f}m ago"
    return " " * (width - spark) + left + "now".rjust(max(0, spark - len(left)))


class KindThroughput(Widget):
    """`show(done, failed, title)` with a value per 10-second bucket, oldest first."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="section")
        self.done: list[float] = []
        self.failed: list[float] = []
        self.border_title = "Throughput"

    def show(self, done: list[float], failed: list[float], title: str) -> None:
        if self.border_title != title:  # a new title repaints the whole section
            self.border_title = title
        if (done, failed) != (self.done, self.failed):
            self.done, self.failed = done, failed
            self.refresh()

    def render(self) -> Text:
        width = self.size.width
        text = series_text("done/s", self.done, "green", width)
        text.append("\n")
        text.append_text(series_text("failed/s", self.failed, "red", width))
        text.append(axis(len(self.done), width), style="dim")
        return text
