"""The registry: kind -> payload model, gates and handler. Users register their own kinds here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.core.gates import Gate, schema_gate
from jobdeck.core.limits import KindLimits, Rate, check_concurrency, check_priority
from jobdeck.core.retry import DEFAULT_POLICY, Backoff, Policy
from jobdeck.core.schedule import Schedule

Handler = Callable[[Any, Any], Awaitable[Any]]


class AnyPayload(BaseModel):
    """The payload model of a kind that accepts any JSON object."""

    model_config = ConfigDict(extra="allow", defer_build=True)


@dataclass(frozen=True, slots=True)
class Kind:
    """Everything jobdeck knows about one kind of job."""

    name: str
    handler: Handler
    payload: type[BaseModel]
    gates: tuple[Gate, ...]
    max_attempts: int = 3
    timeout: float | None = 60.0
    backoff: Backoff = field(default_factory=Backoff)
    policy: Policy = DEFAULT_POLICY
    priority: int = 0
    concurrency: int | None = None
    rate: Rate | None = None

    @property
    def limits(self) -> KindLimits:
        """The limits every worker running this kind declares to the database."""
        return KindLimits(self.name, self.concurrency, self.rate)


class Registry:
    """Maps kind names to `Kind`s. One registry per program; the engine and workers share it."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}
        self._schedules: dict[str, Schedule] = {}

    def kind(
        self,
        name: str,
        *,
        payload: type[BaseModel] = AnyPayload,
        gates: Sequence[Gate] = (),
        max_attempts: int = 3,
        timeout: float | None = 60.0,
        backoff: Backoff | None = None,
        policy: Policy = DEFAULT_POLICY,
        schedule: str | None = None,
        tz: str = "UTC",
        schedule_payload: Mapping[str, Any] | None = None,
        catch_up: bool = False,
        priority: int = 0,
        concurrency: int | None = None,
        rate: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator registering an async handler `(ctx, payload) -> JSON result` as `name`.

        The schema gate built from `payload` always runs first, then `gates` in order. With
        `schedule` (five-field cron, read in the time zone `tz`), workers also make one job of
        this kind at each tick, with `schedule_payload`; see `every`.

        `priority` (-100 to 100, higher first) is the default priority of this kind's jobs.
        `concurrency` caps how many of its jobs run at once and `rate` (`"100/m"`: per second s,
        minute m or hour h) how many are claimed in any window of that length, across every
        worker and host; a worker records both in the database when it starts (the last worker
        to start wins; see `jobdeck limits`).
        Raises InvalidInput if `name` is already registered, max_attempts < 1, the schedule,
        time zone, priority, concurrency or rate is not valid (the sentence names the kind).
        """
        checked_priority = _kind_priority(name, priority)
        checked_concurrency = check_concurrency(name, concurrency)
        try:
            checked_rate = None if rate is None else Rate.parse(rate)
        except InvalidInput as err:
            raise InvalidInput(f"the kind {name!r}: {err}") from None
        entry = (
            Schedule(name, name, schedule, tz, dict(schedule_payload or {}), catch_up)
            if schedule is not None
            else None
        )

        def register(handler: Handler) -> Handler:
            self.add(
                Kind(
                    name=name,
                    handler=handler,
                    payload=payload,
                    gates=(schema_gate(payload), *gates),
                    max_attempts=max_attempts,
                    timeout=timeout,
                    backoff=backoff or Backoff(),
                    policy=policy,
                    priority=checked_priority,
                    concurrency=checked_concurrency,
                    rate=checked_rate,
                )
            )
            if entry is not None:
                self._add_schedule(entry)
            return handler

        return register

    def every(
        self,
        kind: str,
        cron: str,
        *,
        payload: Mapping[str, Any] | None = None,
        tz: str = "UTC",
        name: str | None = None,
        catch_up: bool = False,
    ) -> Schedule:
        """Make a job of `kind` with `payload` at each instant of `cron` (five standard fields)
        in the time zone `tz`. Every worker that loads this registry takes part, and each tick
        becomes exactly one job whatever the number of workers. `name` (default: the kind)
        names the schedule for `jobdeck schedules`; with `catch_up`, ticks missed while no
        worker ran are all made (at most 100), otherwise only the latest.

        Raises InvalidInput for an invalid cron expression, time zone or name, or a name
        already used.
        """
        entry = Schedule(name or kind, kind, cron, tz, dict(payload or {}), catch_up)
        self._add_schedule(entry)
        return entry

    def _add_schedule(self, entry: Schedule) -> None:
        if entry.name in self._schedules:
            raise InvalidInput(f"the schedule {entry.name!r} is declared twice.")
        self._schedules[entry.name] = entry

    def schedules(self) -> list[Schedule]:
        """Every periodic entry, by name. Each names a kind that `check_schedules` verifies."""
        return [self._schedules[n] for n in sorted(self._schedules)]

    def check_schedules(self) -> None:
        """Raise InvalidInput, naming the schedule, for one whose kind is not registered or
        whose payload the kind's gates would refuse as malformed."""
        for entry in self._schedules.values():
            if entry.kind not in self._kinds:
                raise InvalidInput(
                    f"the schedule {entry.name!r} makes jobs of {entry.kind!r}, which is not "
                    "a registered kind."
                )

    def add(self, kind: Kind) -> None:
        if kind.name in self._kinds:
            raise InvalidInput(f"the kind {kind.name!r} is registered twice.")
        if kind.max_attempts < 1:
            raise InvalidInput(f"the kind {kind.name!r} needs max_attempts of at least 1.")
        _kind_priority(kind.name, kind.priority)
        check_concurrency(kind.name, kind.concurrency)
        self._kinds[kind.name] = kind

    def get(self, name: str) -> Kind:
        """The kind called `name`; raises NotFound naming the kinds that exist."""
        try:
            return self._kinds[name]
        except KeyError:
            known = ", ".join(sorted(self._kinds)) or "none"
            raise NotFound(f"unknown kind {name!r} (known kinds: {known}).") from None

    def merge(self, other: Registry) -> Registry:
        """A new registry holding the kinds of both; a name in both is an error."""
        merged = Registry()
        for k in [*self, *other]:
            merged.add(k)
        for entry in [*self.schedules(), *other.schedules()]:
            merged._add_schedule(entry)
        return merged

    def limits(self, kinds: Sequence[str] = ()) -> list[KindLimits]:
        """The limits of `kinds` (every kind when empty), by name, limited or not."""
        names = sorted(kinds) if kinds else self.names()
        return [self._kinds[n].limits for n in names]

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds


def _kind_priority(kind: str, priority: object) -> int:
    try:
        return check_priority(priority)
    except InvalidInput as err:
        raise InvalidInput(f"the kind {kind!r}: {err}") from None
