"""Time: when a job may run, and the periodic schedules declared with the kinds. Pure: no I/O.

A scheduled job is an ordinary `queued` job whose `run_after` lies ahead; nothing here adds a
status. A periodic schedule is a cron expression read in a time zone; each of its instants (a
*tick*) becomes one job whose idempotency key names the schedule and the instant, so the unique
index that refuses duplicate submits refuses a second job for the same tick too.

Cron expressions are read by cronsim (standard five fields, the Debian cron rules for daylight
saving: a tick in a skipped hour runs at the first instant after the gap, and a tick in a repeated
hour runs once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from jobdeck.core.errors import InvalidInput

# At most this many missed ticks are made up with `catch_up=True` (the newest ones).
MAX_CATCH_UP = 100
# The latest instant a job may be scheduled for: the last second of year 9999, UTC.
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
# A schedule name reads like a kind: letters, digits and . _ : -
SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_KEY_PREFIX = "schedule:"


def run_after(
    now: float,
    *,
    run_at: datetime | float | None = None,
    delay: timedelta | float | None = None,
) -> float:
    """The instant (epoch seconds) a submit may first run: `now`, `now + delay`, or `run_at`.

    `run_at` is an aware datetime or epoch seconds; `delay` a timedelta or seconds, never
    negative. A time in the past runs as soon as a worker is free. Raises InvalidInput for both
    at once, a naive datetime, a negative, infinite or NaN delay, or a time past year 9999.
    """
    if run_at is not None and delay is not None:
        raise InvalidInput("give either a time to run at or a delay, not both.")
    if delay is not None:
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else _number(delay)
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidInput(f"a delay must be zero or more seconds, not {seconds:g}.")
        at = now + seconds
    elif run_at is not None:
        if isinstance(run_at, datetime):
            if run_at.tzinfo is None or run_at.utcoffset() is None:
                raise InvalidInput(
                    "a time to run at needs a time zone (a datetime with tzinfo, or Z or an "
                    "offset such as +01:00)."
                )
            at = run_at.timestamp()
        else:
            at = _number(run_at)
            if not math.isfinite(at):
                raise InvalidInput(f"a time to run at must be a finite number, not {at:g}.")
    else:
        return now
    if at > LATEST:
        raise InvalidInput("a job cannot be scheduled past the year 9999.")
    return max(at, now)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"expected seconds as a number, not {type(value).__name__}.")
    try:
        return float(value)
    except OverflowError:
        return math.inf


def time_zone(name: str) -> tzinfo:
    """The zoneinfo time zone called `name`; raises InvalidInput for an unknown one."""
    if name in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"{name!r} is not a time zone jobdeck knows (try Europe/Paris)."
        ) from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A periodic entry: make a job of `kind` with `payload` at each instant of `cron` in `tz`.

    With `catch_up`, ticks missed while no worker ran are all made (at most MAX_CATCH_UP, the
    newest); without it, only the latest missed tick is made.
    """

    name: str
    kind: str
    cron: str
    tz: str = "UTC"
    payload: Mapping[str, Any] = field(default_factory=dict)
    catch_up: bool = False

    def __post_init__(self) -> None:
        if not SCHEDULE_NAME.match(self.name):
            raise InvalidInput(
                f"the schedule of {self.kind!r}: {self.name!r} is not a schedule name "
                "(letters, digits and . _ : -, at most 100 characters)."
            )
        if len(self.cron.split()) != 5:
            raise InvalidInput(
                f"the schedule of {self.kind!r} needs the five standard cron fields "
                f"(minute hour day month weekday), not {self.cron!r}."
            )
        try:
            CronSim(self.cron, datetime(2000, 1, 1, tzinfo=UTC))
        except CronSimError as err:
            raise InvalidInput(
                f"the schedule of {self.kind!r} is not a valid cron expression "
                f"({self.cron!r}): {str(err).rstrip('.').lower()}."
            ) from None
        try:
            time_zone(self.tz)
        except InvalidInput as err:
            raise InvalidInput(f"the schedule of {self.kind!r}: {err}") from None

    def next_after(self, instant: float) -> float:
        """The first tick strictly after `instant` (epoch seconds)."""
        # Started a second early and checked by instant: a local time in the repeated hour of
        # a fall-back night can map to a tick before `instant`, and a timestamp a hair before
        # a tick would round onto it.
        for tick in CronSim(self.cron, _local(instant - 1, self.tz)):
            if tick.timestamp() > instant:
                return tick.timestamp()
        raise AssertionError("unreachable: a cron iterator never ends")

    def ticks(self, after: float, upto: float) -> list[float]:
        """The ticks in (after, upto], oldest first: only the newest without catch_up, at most
        MAX_CATCH_UP (the newest) with it. The same instants `next_after` walks through, so the
        two never disagree, and a schedule that missed a year of minutes costs a few hundred
        steps, not half a million."""
        if upto <= after:
            return []
        wanted = MAX_CATCH_UP if self.catch_up else 1
        # Walk back from `upto` only to learn where the newest ticks begin, then walk forward
        # from an hour before that: backward and forward walks can differ in the hour that a
        # daylight-saving change repeats, and the forward one is the schedule.
        start = after
        walk_back = CronSim(self.cron, _local(upto + 1, self.tz), reverse=True)
        for seen, tick in enumerate(walk_back, start=1):
            instant = tick.timestamp()
            if instant <= after or seen > wanted:
                start = max(after, instant - _DST_MARGIN)
                break
        found: list[float] = []
        for tick in CronSim(self.cron, _local(start - 1, self.tz)):
            instant = tick.timestamp()
            if instant > upto:
                break
            if instant > after:
                found.append(instant)
        return found[-wanted:]


# How far before the newest ticks the forward walk starts: more than any daylight-saving shift.
_DST_MARGIN = 3600.0


def _local(instant: float, tz: str) -> datetime:
    """An instant as an aware local time in `tz`, the repeated hour's second pass included."""
    return datetime.fromtimestamp(instant, time_zone(tz))


def tick_key(name: str, tick: float) -> str:
    """The idempotency key of a schedule's job for one tick: its name and the UTC instant."""
    return f"{_KEY_PREFIX}{name}@{iso_utc(tick)}"


def tick_of(key: str | None) -> tuple[str, str] | None:
    """(schedule name, ISO instant) of a job made by a schedule, from its key; None otherwise."""
    if key is None or not key.startswith(_KEY_PREFIX) or "@" not in key:
        return None
    name, _, instant = key[len(_KEY_PREFIX) :].rpartition("@")
    return (name, instant) if name else None


def iso_utc(instant: float) -> str:
    """An instant as ISO 8601 in UTC with a Z, to the millisecond when it has a fraction."""
    moment = datetime.fromtimestamp(instant, UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


__all__ = [
    "LATEST",
    "MAX_CATCH_UP",
    "Schedule",
    "iso_utc",
    "run_after",
    "tick_key",
    "tick_of",
    "time_zone",
]
