"""How job values read in a cell: short ids, spans of time, and colour-coded categories.

Every colour has a word beside it, so the meaning survives NO_COLOR and colour blindness.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from jobdeck.core.contract import Category, Job, Outcome, Status

SHORT_ID = 6

# Named ANSI colours: the theme maps them to shades that read on dark and light backgrounds.
CATEGORY_STYLE: dict[Category, str] = {
    Category.DENIED: "yellow",
    Category.TERMINAL: "red",
    Category.RETRIES_EXHAUSTED: "magenta",
    Category.INJECTED: "cyan",
    Category.LOST_LEASE: "blue",
    Category.CANCELLED: "bright_black",
    Category.RETRYABLE: "yellow",
}
CATEGORY_LABEL: dict[Category, str] = {Category.RETRIES_EXHAUSTED: "exhausted"}
STATUS_STYLE: dict[Status, str] = {
    Status.QUEUED: "blue",
    Status.RUNNING: "yellow",
    Status.DONE: "green",
    Status.FAILED: "red",
}
OUTCOME_STYLE: dict[Outcome, str] = {
    Outcome.RUNNING: "yellow",
    Outcome.DONE: "green",
    Outcome.RETRY: "yellow",
    Outcome.FAILED: "red",
    Outcome.LOST_LEASE: "blue",
    Outcome.RELEASED: "dim",
}


def printable(text: str) -> str:
    """`text` with every control character (and any other unprintable one) escaped as Python
    would write it, `\\x1b`, `\\n`: a host name or a row a newer jobdeck wrote can neither move the
    cursor nor break a line of the table."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def short_id(job_id: str) -> str:
    """The tail of an id: ids sort by time, so their last characters tell jobs apart."""
    return job_id[-SHORT_ID:]


def span(seconds: float) -> str:
    """A duration in at most five characters: 0.4s, 42s, 3m05s, 2h03m, 3d04h."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}"


def countdown(seconds: float) -> str:
    """Time until something happens, in at most seven characters: in 4s, in 42s, in 4m10, in
    2h03, in 3d04. Whole seconds, rounded up, so it never reads `in 0s` before the moment."""
    if seconds < 60:
        return f"in {max(1, math.ceil(seconds))}s"
    return f"in {span(seconds)}"


def scheduled(job: Job, now: float) -> bool:
    """Whether the job is queued for a moment still ahead (delayed, or a retry's backoff)."""
    return job.status is Status.QUEUED and job.run_after > now


def category_words(cat: Category) -> tuple[str, str]:
    """A category's label and the colour it is drawn in."""
    return CATEGORY_LABEL.get(cat, cat.value), CATEGORY_STYLE[cat]


def category(cat: Category) -> Text:
    return Text(*category_words(cat))


def status(value: Status) -> Text:
    return Text(value.value, style=f"bold {STATUS_STYLE[value]}")


def outcome(value: Outcome) -> Text:
    return Text(value.value, style=OUTCOME_STYLE[value])


def utc(ts: float | None) -> str:
    """A timestamp in UTC to the millisecond: the same picture in every time zone."""
    if ts is None:
        return "-"
    stamp = datetime.fromtimestamp(ts, UTC).isoformat(sep=" ", timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
