"""The demo kinds: registered by default, used by `jobdeck demo`, `jobdeck check` and the tests.

The demo's periodic schedules are added by `add_demo_schedules`, which only `jobdeck demo` calls:
a schedule in the default registry would make every worker on a user's database submit demo jobs
each minute, and every test that runs a worker race the minute's turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobdeck.core.contract import PASS, Result
from jobdeck.core.gates import GateContext, deny, gate
from jobdeck.core.registry import AnyPayload, Registry
from jobdeck.core.retry import Backoff, Retryable
from jobdeck.core.schedule import tick_of

CHARGE_LIMIT = 10_000
# The demo's schedules: a digest each minute (UTC) and a flaky job every five minutes, read in
# Paris time so the Schedules view shows a zone.
DIGEST_CRON = "* * * * *"
FLAKY_SCHEDULE = "demo.flaky-5m"
FLAKY_CRON = "*/5 * * * *"


class SleepPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    seconds: float = Field(ge=0, le=3600)


class FlakyPayload(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    fail_times: int = Field(ge=0, le=100)


class ChargePayload(BaseModel):
    # `id` is optional here on purpose: its absence is a policy denial (`missing_id`), which
    # reads better to an operator than a schema error.
    model_config = ConfigDict(extra="forbid", defer_build=True)
    id: str | None = None
    amount: int = Field(gt=0)
    currency: Literal["EUR", "USD"]


class TransferPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)
    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)
    amount: int = Field(gt=0)


class Ledger:
    """The demo's accounts, in memory: enough to watch a debit being rolled back."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}

    def move(self, account: str, amount: int) -> dict[str, Any]:
        self.balances[account] = self.balances.get(account, 0) + amount
        return {"account": account, "amount": amount}


LEDGER = Ledger()


@gate("missing_id")
def missing_id(payload: Mapping[str, Any], ctx: GateContext) -> Result:
    value = payload.get("id")
    if not isinstance(value, str) or not value.strip():
        return deny(
            "missing_id", "missing_id", "A charge needs an id to be idempotent.", field="id"
        )
    return PASS


@gate("amount_limit")
def amount_limit(payload: Mapping[str, Any], ctx: GateContext) -> Result:
    amount = payload.get("amount", 0)
    if isinstance(amount, int) and amount > CHARGE_LIMIT:
        return deny(
            "amount_limit",
            "amount_over_limit",
            f"A charge of {amount} is over the limit of {CHARGE_LIMIT}.",
            field="amount",
            limit=CHARGE_LIMIT,
            value=amount,
        )
    return PASS


def demo_registry(*, token: Callable[[int], str] = secrets.token_hex) -> Registry:
    """A fresh registry holding the demo kinds. `token` is what demo.random draws from (a seeded
    one makes its results, and so its rerun diffs, repeatable in screenshots)."""
    registry = Registry()

    @registry.kind("demo.echo", max_attempts=1)
    async def echo(ctx: Any, payload: AnyPayload) -> Any:
        return payload.model_dump()

    @registry.kind("demo.sleep", payload=SleepPayload, timeout=3600)
    async def sleep(ctx: Any, payload: SleepPayload) -> Any:
        await asyncio.sleep(payload.seconds)
        return {"slept": payload.seconds}

    @registry.kind("demo.flaky", payload=FlakyPayload, max_attempts=5, backoff=Backoff(0.1, 2.0))
    async def flaky(ctx: Any, payload: FlakyPayload) -> Any:
        if ctx.attempt <= payload.fail_times:
            raise Retryable(
                f"flaky failure {ctx.attempt} of {payload.fail_times}",
                code="flaky",
                attempt=ctx.attempt,
            )
        return {"succeeded_on_attempt": ctx.attempt}

    @registry.kind("demo.charge", payload=ChargePayload, gates=[missing_id, amount_limit])
    async def charge(ctx: Any, payload: ChargePayload) -> Any:
        receipt = hashlib.sha256(f"{payload.id}:{payload.amount}:{payload.currency}".encode())
        return {
            "charge_id": payload.id,
            "amount": payload.amount,
            "currency": payload.currency,
            "receipt": receipt.hexdigest()[:16],
        }

    @registry.kind("demo.transfer", payload=TransferPayload, backoff=Backoff(0.1, 2.0))
    async def transfer(ctx: Any, payload: TransferPayload) -> Any:
        amount = payload.amount
        debit = await ctx.step(
            "debit",
            lambda: LEDGER.move(payload.source, -amount),
            compensate=lambda _: LEDGER.move(payload.source, amount),
        )
        credit = await ctx.step("credit", lambda: LEDGER.move(payload.target, amount))
        return {"debit": debit, "credit": credit}

    @registry.kind("demo.random", max_attempts=1)
    async def random_(ctx: Any, payload: AnyPayload) -> Any:
        return {"token": token(8)}

    @registry.kind("demo.digest", max_attempts=1)
    async def digest(ctx: Any, payload: AnyPayload) -> Any:
        # A periodic job learns its tick from its key; one submitted by hand has none.
        made = tick_of(ctx.job.idempotency_key)
        return {"tick": made[1] if made else None}

    return registry


def add_demo_schedules(registry: Registry) -> None:
    """Declare the demo's schedules on a registry holding the demo kinds: `demo.digest` each
    minute, and `demo.flaky` every five minutes in Europe/Paris (it fails once, then succeeds).
    Raises InvalidInput when the registry already declares one of them."""
    registry.every("demo.digest", DIGEST_CRON)
    registry.every(
        "demo.flaky",
        FLAKY_CRON,
        payload={"fail_times": 1, "n": 0},
        tz="Europe/Paris",
        name=FLAKY_SCHEDULE,
    )


async def workload(engine: Any, stop: asyncio.Event, *, per_second: float = 8.0) -> int:
    """Submit a steady mix of demo jobs until `stop` is set; returns how many were submitted.

    The mix shows every pane and every failure category within seconds: quick echoes, short
    sleeps, flaky jobs that retry, charges (some denied for a missing id or over the limit),
    random jobs that diverge on rerun, and now and then a job delayed by up to a minute, which
    waits in the Queued pane with its countdown.
    """
    n = 0
    interval = 1.0 / per_second
    while not stop.is_set():
        n += 1
        kind, payload = _mix(n)
        key = f"demo:{n}:{secrets.token_hex(4)}"
        await engine.submit(kind, payload, key=key, delay=_delay(n))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
    return n


def _delay(n: int) -> float | None:
    """Seconds to hold back the n-th job: one job in 40, by 20 to 59 seconds."""
    return 20.0 + (n // 40) % 40 if n % 40 == 4 else None


def _mix(n: int) -> tuple[str, dict[str, Any]]:
    slot = n % 10
    if slot in (0, 5):
        return "demo.sleep", {"seconds": round(1 + (n % 7) * 0.6, 1)}
    if slot == 1:
        return "demo.flaky", {"fail_times": n % 3, "n": n}
    if slot == 2:
        amount = 20_000 if n % 40 == 2 else 100 + n % 900
        return "demo.charge", {"id": f"ch_{n:05d}", "amount": amount, "currency": "EUR"}
    if slot == 3 and n % 20 == 3:
        return "demo.charge", {"amount": 250, "currency": "USD"}
    if slot == 7:
        return "demo.random", {"n": n}
    if slot == 8 and n % 20 == 8:
        return "demo.transfer", {"from": f"acct_{n % 5}", "to": f"acct_{(n + 1) % 5}", "amount": 25}
    if slot == 9 and n % 30 == 9:
        return "demo.flaky", {"fail_times": 9, "n": n}
    return "demo.echo", {"n": n, "msg": "hello"}
