"""The registry: kind -> payload model, gates and handler. Users register their own kinds here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from jobdeck.core.errors import InvalidInput, NotFound
from jobdeck.core.gates import Gate, schema_gate
from jobdeck.core.retry import DEFAULT_POLICY, Backoff, Policy

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


class Registry:
    """Maps kind names to `Kind`s. One registry per program; the engine and workers share it."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

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
    ) -> Callable[[Handler], Handler]:
        """Decorator registering an async handler `(ctx, payload) -> JSON result` as `name`.

        The schema gate built from `payload` always runs first, then `gates` in order.
        Raises InvalidInput if `name` is already registered or max_attempts < 1.
        """

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
                )
            )
            return handler

        return register

    def add(self, kind: Kind) -> None:
        if kind.name in self._kinds:
            raise InvalidInput(f"the kind {kind.name!r} is registered twice.")
        if kind.max_attempts < 1:
            raise InvalidInput(f"the kind {kind.name!r} needs max_attempts of at least 1.")
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
        return merged

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds
