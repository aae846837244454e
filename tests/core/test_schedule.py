"""Time as pure functions: when a submit may first run (`run_after`), and the ticks of a cron
schedule in a time zone, through both daylight-saving changes of 2026 in Europe/Paris."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobdeck.core.errors import InvalidInput
from jobdeck.core.schedule import (
    LATEST,
    MAX_CATCH_UP,
    Schedule,
    iso_utc,
    run_after,
    tick_key,
    tick_of,
    time_zone,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).timestamp()
PARIS = ZoneInfo("Europe/Paris")
KIND = "demo.nightly"

# Instants jobdeck accepts: from 1970 to the end of year 9998 (ample room under LATEST), to the
# microsecond (datetime's resolution; see test_next_after_just_before_a_tick_is_that_tick).
instants = st.integers(
    min_value=0, max_value=int(datetime(9998, 12, 31, tzinfo=UTC).timestamp()) * 10**6
).map(lambda us: us / 10**6)
delays = st.floats(min_value=0, max_value=1e10, allow_nan=False)
bad_delays = st.one_of(
    st.floats(max_value=-1e-9, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.integers(max_value=-1),
)
names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}\Z")


def paris(*args: int, fold: int = 0) -> float:
    return datetime(*args, tzinfo=PARIS, fold=fold).timestamp()  # type: ignore[misc]


# -- run_after ------------------------------------------------------------------------------------
def test_without_a_time_a_submit_runs_now() -> None:
    assert run_after(NOW) == NOW


@given(delays)
def test_a_delay_in_seconds_runs_that_much_after_now(seconds: float) -> None:
    assert run_after(NOW, delay=seconds) == NOW + seconds


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365 * 100)))
def test_a_timedelta_delay_runs_that_much_after_now(delay: timedelta) -> None:
    assert run_after(NOW, delay=delay) == NOW + delay.total_seconds()


@given(instants)
def test_epoch_seconds_run_then_or_now_when_past(at: float) -> None:
    assert run_after(NOW, run_at=at) == max(at, NOW)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from(
            [UTC, PARIS, ZoneInfo("America/New_York"), timezone(timedelta(hours=-9, minutes=-30))]
        ),
    )
)
def test_an_aware_datetime_runs_at_its_instant_or_now_when_past(at: datetime) -> None:
    assert run_after(NOW, run_at=at) == max(at.timestamp(), NOW)


def test_a_time_in_the_past_gives_now() -> None:
    assert run_after(NOW, run_at=NOW - 3600) == NOW
    assert run_after(NOW, run_at=datetime(2000, 1, 1, tzinfo=UTC)) == NOW
    assert run_after(NOW, run_at=-5) == NOW  # before 1970 is still the past


def test_both_a_time_and_a_delay_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not both"):
        run_after(NOW, run_at=NOW + 10, delay=10)
    with pytest.raises(InvalidInput, match="not both"):
        run_after(NOW, run_at=datetime(2030, 1, 1, tzinfo=UTC), delay=timedelta(0))


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31)))
def test_a_naive_datetime_is_refused_with_a_hint(at: datetime) -> None:
    with pytest.raises(InvalidInput, match="needs a time zone"):
        run_after(NOW, run_at=at)


class NoOffset(tzinfo):
    """A tzinfo that does not know its offset: as naive as no tzinfo at all."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None


def test_a_datetime_whose_zone_gives_no_offset_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs a time zone"):
        run_after(NOW, run_at=datetime(2030, 1, 1, tzinfo=NoOffset()))


@given(bad_delays)
def test_a_negative_infinite_or_nan_delay_is_refused(seconds: float) -> None:
    with pytest.raises(InvalidInput, match="a delay must be zero or more seconds"):
        run_after(NOW, delay=seconds)


def test_a_negative_timedelta_and_a_delay_that_is_not_a_number_are_refused() -> None:
    with pytest.raises(InvalidInput, match="zero or more"):
        run_after(NOW, delay=timedelta(seconds=-1))
    for wrong in ("5", True):
        with pytest.raises(InvalidInput, match="expected seconds as a number"):
            run_after(NOW, delay=wrong)  # type: ignore[arg-type]


@pytest.mark.parametrize("at", [math.nan, math.inf, -math.inf, 10**400])
def test_a_time_that_is_not_a_finite_number_is_refused(at: float) -> None:
    with pytest.raises(InvalidInput, match="finite number"):
        run_after(NOW, run_at=at)


@pytest.mark.parametrize(
    "when",
    [
        {"run_at": LATEST + 1},
        {"run_at": datetime.max.replace(tzinfo=UTC)},
        {"run_at": datetime(9999, 12, 31, 23, 0, tzinfo=ZoneInfo("Etc/GMT+12"))},
        {"delay": LATEST},
        {"delay": timedelta.max},
        {"delay": 1e300},
    ],
    ids=["epoch", "datetime.max", "behind-utc", "delay", "timedelta.max", "huge"],
)
def test_a_time_past_the_year_9999_is_refused(when: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="past the year 9999"):
        run_after(NOW, **when)  # type: ignore[arg-type]


def test_the_last_second_of_9999_is_still_accepted() -> None:
    assert run_after(NOW, run_at=LATEST) == LATEST


# -- declaring a schedule -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cron", "complaint"),
    [
        ("61 * * * *", "not a valid cron expression"),
        ("* 24 * * *", "not a valid cron expression"),
        ("0 0 30 2 *", "not a valid cron expression"),
        ("*/0 * * * *", "not a valid cron expression"),
        ("@daily", "five standard cron fields"),
        ("0 0 * * * *", "five standard cron fields"),
        ("* * * *", "five standard cron fields"),
        ("bad", "five standard cron fields"),
        ("", "five standard cron fields"),
    ],
)
def test_an_invalid_cron_is_refused_in_a_sentence_naming_the_kind(
    cron: str, complaint: str
) -> None:
    with pytest.raises(InvalidInput, match=complaint) as caught:
        Schedule("nightly", KIND, cron)
    assert repr(KIND) in str(caught.value)
    assert str(caught.value).endswith(".") and "\n" not in str(caught.value)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Europe/Pariss", "", "../../etc/passwd"])
def test_an_unknown_time_zone_is_refused_in_a_sentence_naming_the_kind(tz: str) -> None:
    with pytest.raises(InvalidInput, match="not a time zone jobdeck knows") as caught:
        Schedule("nightly", KIND, "0 3 * * *", tz)
    assert repr(KIND) in str(caught.value)


@pytest.mark.parametrize("name", ["", "has space", "a/b", "x@y", "-leading", "n" * 101, "é"])
def test_a_bad_schedule_name_is_refused_naming_it(name: str) -> None:
    with pytest.raises(InvalidInput, match="is not a schedule name") as caught:
        Schedule(name, KIND, "0 3 * * *")
    assert repr(name) in str(caught.value)


def test_utc_z_and_named_zones_are_known() -> None:
    assert time_zone("UTC") is UTC and time_zone("Z") is UTC
    assert time_zone("Europe/Paris") == PARIS
    Schedule("nightly", KIND, "30 2 * * *", "Europe/Paris", {"a": 1}, catch_up=True)


# -- ticks ---------------------------------------------------------------------------------------
EVERY_MINUTE = Schedule("minutely", KIND, "* * * * *")
MINUTE = 60.0
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC).timestamp()  # a whole minute


@given(instants)
def test_next_after_is_strictly_after_even_on_a_tick(instant: float) -> None:
    following = EVERY_MINUTE.next_after(instant)
    assert instant < following <= instant + MINUTE
    assert following % MINUTE == 0
    on_tick = math.floor(instant / MINUTE) * MINUTE
    assert EVERY_MINUTE.next_after(on_tick) == on_tick + MINUTE


@given(st.integers(min_value=1, max_value=3 * MAX_CATCH_UP), st.floats(0, 59.999))
def test_without_catch_up_only_the_newest_missed_tick_is_made(missed: int, extra: float) -> None:
    upto = START + missed * MINUTE + extra
    assert EVERY_MINUTE.ticks(START, upto) == [START + missed * MINUTE]


@given(st.integers(min_value=1, max_value=3 * MAX_CATCH_UP), st.floats(0, 59.999))
def test_with_catch_up_every_missed_tick_up_to_the_newest_hundred(
    missed: int, extra: float
) -> None:
    entry = Schedule("minutely", KIND, "* * * * *", catch_up=True)
    ticks = entry.ticks(START, START + missed * MINUTE + extra)
    kept = min(missed, MAX_CATCH_UP)
    assert ticks == [START + n * MINUTE for n in range(missed - kept + 1, missed + 1)]


def test_no_tick_is_due_before_the_next_one() -> None:
    assert EVERY_MINUTE.ticks(START, START) == []
    assert EVERY_MINUTE.ticks(START, START + 59.9) == []
    assert EVERY_MINUTE.ticks(START, START - 600) == []
    assert EVERY_MINUTE.ticks(START - 0.5, START) == [START]  # the upper bound is included


def test_ticks_follow_the_time_zone_of_the_schedule() -> None:
    at_nine = Schedule("morning", KIND, "0 9 * * *", "Europe/Paris")
    after = paris(2026, 1, 10, 12, 0)
    assert at_nine.next_after(after) == paris(2026, 1, 11, 9, 0)
    assert iso_utc(at_nine.next_after(after)) == "2026-01-11T08:00:00Z"


# -- daylight saving in Europe/Paris: spring forward 2026-03-29, fall back 2026-10-25 -----------
def chain(entry: Schedule, start: float, n: int) -> list[float]:
    """The next `n` ticks found the way a worker plans them: each from the one before."""
    found, at = [], start
    for _ in range(n):
        at = entry.next_after(at)
        found.append(at)
    return found


@pytest.mark.parametrize(
    ("first_day", "changed"),
    [((2026, 3, 25), (2026, 3, 29)), ((2026, 10, 21), (2026, 10, 25))],
    ids=["spring-forward", "fall-back"],
)
def test_a_daily_tick_in_the_changed_hour_neither_skips_nor_doubles_a_day(
    first_day: tuple[int, int, int], changed: tuple[int, int, int]
) -> None:
    daily = Schedule("nightly", KIND, "30 2 * * *", "Europe/Paris", catch_up=True)
    start = paris(*first_day, 0, 0)
    for ticks in (chain(daily, start, 8), daily.ticks(start, start + 8 * 86400 - 1)):
        days = [datetime.fromtimestamp(t, PARIS).date() for t in ticks]
        first = datetime(*first_day).date()
        assert days == [first + timedelta(days=n) for n in range(8)]
        assert ticks == sorted(set(ticks))
    # 02:30 does not exist on 29 March: it runs at the first instant after the gap (03:00 CEST);
    # on 25 October 02:30 happens twice: it runs once, at the first of them (02:30 CEST).
    on_the_day = daily.next_after(paris(*changed, 0, 0))
    expected = {
        (2026, 3, 29): "2026-03-29T01:00:00Z",
        (2026, 10, 25): "2026-10-25T00:30:00Z",
    }[changed]
    assert iso_utc(on_the_day) == expected
    assert daily.next_after(on_the_day) - on_the_day in (23 * 3600 + 1800, 24 * 3600 + 3600)


@pytest.mark.parametrize(
    ("day", "hours"),
    [((2026, 3, 29), 23), ((2026, 10, 25), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_an_hourly_schedule_gives_one_distinct_utc_instant_per_real_hour(
    day: tuple[int, int, int], hours: int
) -> None:
    hourly = Schedule("hourly", KIND, "0 * * * *", "Europe/Paris", catch_up=True)
    midnight = paris(*day, 0, 0)
    next_midnight = paris(day[0], day[1], day[2] + 1, 0, 0)
    for ticks in (
        [t for t in chain(hourly, midnight - 1, hours + 2) if t < next_midnight],
        hourly.ticks(midnight - 1, next_midnight - 1),
    ):
        assert len(ticks) == hours == len(set(ticks))
        assert [b - a for a, b in pairwise(ticks)] == [3600.0] * (hours - 1)
        assert ticks[0] == midnight


def microseconds_between(start: float, end: float) -> st.SearchStrategy[float]:
    return st.integers(int(start * 10**6), int(end * 10**6)).map(lambda us: us / 10**6)


@given(
    microseconds_between(paris(2026, 3, 28), paris(2026, 3, 30))
    | microseconds_between(paris(2026, 10, 24), paris(2026, 10, 26))
)
def test_around_both_changes_an_hourly_tick_is_the_next_whole_utc_hour(instant: float) -> None:
    # Paris is a whole number of hours from UTC, so "minute 0 of every hour" is every UTC hour,
    # before, during and after each change.
    hourly = Schedule("hourly", KIND, "0 * * * *", "Europe/Paris")
    assert hourly.next_after(instant) == (math.floor(instant / 3600) + 1) * 3600


# The two changes of 2026 in two zones; the fall-back ones repeat an hour (02:00-02:59 in Paris,
# 01:00-01:59 in New York). Those nights once broke both walks: a local time in the repeated
# hour's second pass made next_after answer a tick before the instant, and ticks start its walk
# back an hour early and miss that pass.
CHANGES = [
    pytest.param("Europe/Paris", (2026, 3, 29), id="paris-spring-forward"),
    pytest.param("America/New_York", (2026, 3, 8), id="new-york-spring-forward"),
    pytest.param("Europe/Paris", (2026, 10, 25), id="paris-fall-back"),
    pytest.param("America/New_York", (2026, 11, 1), id="new-york-fall-back"),
]


FIXED_HOURS = ["30 2 * * *", "0 2 * * *", "30 1 * * *", "15 1,2 * * *", "0 3 * * *", "* 2 * * *"]


def around(zone: str, day: tuple[int, int, int], hours: int, step: int) -> list[float]:
    """Instants every `step` seconds from `hours` before to `hours` after 02:00 local."""
    center = datetime(*day, 2, 0, tzinfo=ZoneInfo(zone)).timestamp()
    return [center + k for k in range(-hours * 3600, hours * 3600, step)]


@pytest.mark.parametrize(("zone", "day"), CHANGES)
def test_next_after_is_strictly_after_around_a_change(zone: str, day: tuple[int, int, int]) -> None:
    wrong = []
    for cron in FIXED_HOURS:
        entry = Schedule("nightly", KIND, cron, zone)
        for instant in around(zone, day, 4, 97):
            following = entry.next_after(instant)
            if not instant < following <= instant + 49 * 3600:
                wrong.append((cron, iso_utc(instant), iso_utc(following)))
    assert wrong == []


@pytest.mark.parametrize(("zone", "day"), CHANGES)
@pytest.mark.parametrize(
    "minutes", [(0,), (0, 15, 30, 45), tuple(range(60))], ids=["hourly", "quarterly", "minutely"]
)
def test_ticks_finds_every_utc_instant_of_a_wildcard_hour_schedule_around_a_change(
    zone: str, day: tuple[int, int, int], minutes: tuple[int, ...]
) -> None:
    # With '*' in the hour, a schedule runs by the new time at once: every matching minute of
    # UTC (both zones are whole hours from UTC), the repeated hour's two passes included.
    cron = ",".join(map(str, minutes)) + " * * * *"
    eager = Schedule("often", KIND, cron, zone, catch_up=True)
    latest = Schedule("often", KIND, cron, zone)
    wrong = []
    for after in around(zone, day, 3, 11 * 60 + 13):
        for span in (59, 600, 3700):
            upto = after + span
            first = math.floor(after / MINUTE) * MINUTE + MINUTE
            expected = [
                m
                for m in range(int(first), int(upto) + 1, int(MINUTE))
                if datetime.fromtimestamp(m, UTC).minute in minutes
            ]
            got = (eager.ticks(after, upto), latest.ticks(after, upto))
            if got != (expected[-MAX_CATCH_UP:], expected[-1:]):
                wrong.append((iso_utc(after), iso_utc(upto)))
    assert wrong == []


def test_next_after_just_before_a_tick_is_that_tick() -> None:
    just_before = math.nextafter(START, 0)  # 2.4e-7 s before the whole minute
    assert just_before < START
    assert EVERY_MINUTE.next_after(just_before) == START


# -- the keys of tick jobs -----------------------------------------------------------------------
@given(names, st.integers(min_value=0, max_value=int(LATEST) // 60).map(lambda m: m * 60.0))
def test_tick_key_and_tick_of_round_trip(name: str, tick: float) -> None:
    key = tick_key(name, tick)
    assert len(key) <= 200  # within the limit on idempotency keys
    assert tick_of(key) == (name, iso_utc(tick))
    assert datetime.fromisoformat(iso_utc(tick)).timestamp() == tick


def test_a_tick_key_names_the_schedule_and_the_utc_instant() -> None:
    assert tick_key("nightly", START) == "schedule:nightly@2026-05-04T10:00:00Z"
    assert tick_key("n", START + 0.25) == "schedule:n@2026-05-04T10:00:00.250Z"


@pytest.mark.parametrize(
    "key", [None, "", "auto:0123abcd", "schedule:", "schedule:@2026-05-04T10:00:00Z", "nightly@x"]
)
def test_a_key_no_schedule_made_has_no_tick(key: str | None) -> None:
    assert tick_of(key) is None
