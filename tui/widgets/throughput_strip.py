"""The main screen's throughput strip: done and failed per second over the last 5 minutes and the
queue depth, as three zero-based sparklines with their current values in words.

One line on an 80×24 terminal (`done ▂▃▅▇ 12.3/s  failed ▁ 0.1/s  queued ▅▆▆ 1.2k`), two from 40
rows up, where each bar has twice the steps. Sparklines, not a plot: a plot's axes and labels
need eight rows or more to read, which an 80×24 screen cannot spare from its panes, and at one
or two lines a bar a 10-second slot shows the shape of the last five minutes with the numbers
beside it. The bars' heights and the words carry the meaning, so NO_COLOR loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from jobdeck.tui.throughput import SLOTS, Throughput
from jobdeck.tui.widgets.spark import amount, rate, spark_rows

GAP = 2  # blanks between two series
VALUE = 6  # the widest current value, `99.9/s`


class ThroughputStrip(Widget):
    """`show(throughput)` with what the feed read; draws at the height its CSS gives it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.throughput: Throughput | None = None

    def show(self, throughput: Throughput | None) -> None:
        if throughput is not None and throughput != self.throughput:
            self.throughput = throughput
            self.refresh()

    def series(self) -> list[tuple[str, Sequence[float | None], str, str]]:
        """(name, values, current value in words, colour) of each sparkline."""
        t = self.throughput
        if t is None:
            return [
                ("done", [], "-", "green"),
                ("failed", [], "-", "red"),
                ("queued", [], "-", "blue"),
            ]
        return [
            ("done", t.done, rate(t.done_now), "green"),
            ("failed", t.failed, rate(t.failed_now), "red"),
            ("queued", t.queued, amount(t.queued_now), "blue"),
        ]

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        series = self.series()
        block = (width - GAP * (len(series) - 1)) // len(series)
        lines = [Text() for _ in range(height)]
        for i, (name, values, now, colour) in enumerate(series):
            if height == 1:
                spark = max(0, min(SLOTS, block - len(name) - VALUE - 2))
                row = spark_rows(values, spark)[0]
                cell = Text.assemble(
                    (name, "bold"), " ", (row.ljust(spark), colour), " ", now.rjust(VALUE)
                )
                parts = [cell]
            else:
                label = max(len(name), VALUE)
                spark = max(0, min(SLOTS, block - label - 1))
                rows = spark_rows(values, spark, height)
                parts = []
                for line, row in enumerate(rows):
                    # The name on the top line, the current value on the bottom one.
                    words = (" " * label, "")
                    if line == 0:
                        words = (name.ljust(label), "bold")
                    elif line == height - 1:
                        words = (now.rjust(label), "")
                    parts.append(Text.assemble(words, " ", (row.ljust(spark), colour)))
            for line, part in enumerate(parts):
                if i:
                    lines[line].append(" " * GAP)
                part.truncate(block, pad=True)
                lines[line].append_text(part)
        return Text("\n").join(lines)
