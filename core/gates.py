"""Validation gates: pure checks that run, in order, before a job is stored.

A gate reads the payload and a read-only context and returns `Result`. It never writes. The first
gate that fails is the job's one reason; the gates after it do not run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from jobdeck.core.contract import PASS, Category, Reason, Result


@dataclass(frozen=True, slots=True)
class GateContext:
    """What a gate may look at besides the payload. Read-only by construction."""

    kind: str
    now: float


GateFn = Callable[[Mapping[str, Any], GateContext], Result]


@dataclass(frozen=True, slots=True)
class Gate:
    """A named check. `name` is recorded as the reason's `gate` when it denies."""

    name: str
    check: GateFn

    def __call__(self, payload: Mapping[str, Any], ctx: GateContext) -> Result:
        return self.check(payload, ctx)


def gate(name: str) -> Callable[[GateFn], Gate]:
    """Decorator: turn a function into a named gate."""

    def wrap(fn: GateFn) -> Gate:
        return Gate(name, fn)

    return wrap


def deny(gate_name: str, code: str, message: str, **evidence: Any) -> Result:
    """A denial with its reason, for gate authors."""
    return Result.deny(
        Reason(
            code=code,
            message=message,
            category=Category.DENIED,
            gate=gate_name,
            retryable=False,
            evidence=evidence,
        )
    )


def schema_gate(model: type[BaseModel]) -> Gate:
    """The first gate of every kind: the payload must validate against the kind's model."""

    def check(payload: Mapping[str, Any], ctx: GateContext) -> Result:
        try:
            model.model_validate(payload)
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "payload"
            return deny(
                "schema",
                "invalid_payload",
                f"The payload of {ctx.kind} is invalid at {field}: {first['msg']}.",
                field=field,
                error=first["type"],
            )
        return PASS

    return Gate("schema", check)


def first_failure(gates: Sequence[Gate], payload: Mapping[str, Any], ctx: GateContext) -> Result:
    """Run gates in order; the first failing one is the answer, or PASS if none fails."""
    for g in gates:
        result = g(payload, ctx)
        if not result.ok:
            return result
    return PASS
