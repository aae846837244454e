"""Regenerate the README's screenshots: `python -m jobdeck.tui.shoot [folder]` (default
./screenshots). Each picture is drawn from a fresh database filled the same way every time: a
fixed clock, counter ids, seeded randomness and no backoff, so a rerun of the command changes
no byte unless the monitor changed."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from jobdeck.core import Backoff, Engine, Registry, Status, Worker, demo_registry
from jobdeck.core.demo import FLAKY_SCHEDULE, add_demo_schedules
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.detail import DetailScreen
from jobdeck.tui.screens.main import MainScreen
from jobdeck.tui.system_scene import build_system, system_registry

START = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
SIZE = (120, 36)
DB_LABEL = "demo.db"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Ids:
    """Ids shaped like real ones (26 characters, sortable), numbered from 1."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"01KDZ{self.n:021d}"


def scene_registry() -> Registry:
    """The demo kinds and schedules with no backoff, so retries run at once under the frozen
    clock."""
    out = Registry()
    for kind in demo_registry(token=stable_tokens()):
        out.add(dataclasses.replace(kind, backoff=Backoff(base=0.0, cap=0.0)))
    add_demo_schedules(out)
    return out


def stable_tokens(seed: int = 4) -> Callable[[int], str]:
    """demo.random's token source, seeded so its rerun diff is the same each time."""
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n).hex()


MIX: list[tuple[str, dict[str, Any]]] = [
    ("demo.echo", {"n": 1, "msg": "hello"}),
    ("demo.charge", {"id": "ch_00002", "amount": 420, "currency": "EUR"}),
    ("demo.flaky", {"fail_times": 2, "n": 3}),
    ("demo.charge", {"amount": 250, "currency": "USD"}),
    ("demo.random", {"n": 5}),
    ("demo.sleep", {"seconds": 0}),
    ("demo.flaky", {"fail_times": 9, "n": 7}),
    ("demo.charge", {"id": "ch_00008", "amount": 20000, "currency": "EUR"}),
    ("demo.echo", {"n": 9, "msg": "hello"}),
    ("demo.charge", {"id": "ch_00010", "amount": 130, "currency": "EUR"}),
]


async def build(engine: Engine, clock: Clock) -> dict[str, str]:
    """Fill the database like a few seconds of `jobdeck demo`; returns ids worth a picture."""
    picks: dict[str, str] = {}
    for round_ in range(3):
        for n, (kind, payload) in enumerate(MIX):
            body = dict(payload)
            if "n" in body:
                body["n"] = round_ * 10 + n
            if isinstance(body.get("id"), str):
                body["id"] = f"ch_{round_ * 10 + n:05d}"
            job = await engine.submit(kind, body, key=f"scene:{round_}:{n}")
            picks.setdefault(f"{kind}:{job.status.value}", job.id)
            clock.now += 0.35
        if round_ == 1:
            victim = await engine.submit("demo.echo", {"n": 99, "msg": "fail me"})
            await engine.arm_fault(job_id=victim.id, reason="disk full, on purpose")
        await Worker(engine, burst=True, concurrency=1, name="scene").run()
        clock.now += 4.0
    lost = await engine.submit("demo.echo", {"n": 100, "msg": "worker dies"})
    await engine.store.claim("gone", ["demo.echo"], 1, clock(), 5.0)
    clock.now += 10.0
    await engine.recover()
    rerun = await engine.rerun(picks["demo.random:queued"])
    again = await engine.rerun(picks["demo.charge:queued"])
    await Worker(engine, burst=True, concurrency=1, name="scene").run()
    picks |= {"lost": lost.id, "rerun_random": rerun.id, "rerun_charge": again.id}
    for n, (kind, payload) in enumerate(MIX[:6]):
        await engine.submit(kind, payload, key=f"scene:late:{n}")
        clock.now += 0.4
    # Held back: they count down in the Queued pane (no burst worker runs after them, as one
    # would wait for them under the frozen clock).
    await engine.submit("demo.echo", {"n": 60, "msg": "later"}, key="scene:held:0", delay=250)
    await engine.submit("demo.sleep", {"seconds": 1}, key="scene:held:1", delay=95)
    for name in ("demo-1", "demo-2"):
        await engine.store.touch_worker(name, clock())
        await engine.store.claim(name, ["demo.sleep", "demo.flaky"], 1, clock(), 30.0)
    clock.now += 2.5
    return picks


async def build_schedules(engine: Engine, clock: Clock) -> dict[str, str]:
    """The demo's two schedules five minutes in: demo.digest ran at 00:01 and 00:05, the flaky
    job's 00:05 tick failed on an injected fault and an operator paused its schedule; the
    clock stops 39 s before the next digest."""

    async def work() -> None:
        await Worker(engine, burst=True, concurrency=1, name="scene").run()

    await work()  # declares both schedules at 00:00
    clock.now += 61
    await work()
    clock.now += 240
    await engine.arm_fault(kind="demo.flaky", reason="payment provider down")
    await work()
    clock.now += 9
    await engine.pause_schedule(FLAKY_SCHEDULE, reason="provider maintenance until 02:00")
    clock.now += 11
    return {}


Scene = Callable[[Engine, Clock], Awaitable[dict[str, str]]]
Step = Callable[[Pilot[Any], dict[str, str]], Awaitable[None]]


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def main_screen(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)


async def denied_detail(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)
    await pilot.app.push_screen(DetailScreen(picks["demo.charge:failed"]))
    await settle(pilot)


async def rerun_verdict(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)
    await pilot.app.push_screen(DetailScreen(picks["rerun_random"]))
    await settle(pilot)


async def failure_groups(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)
    await pilot.press("g")
    await settle(pilot)


async def schedules(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    await pilot.press("down")  # the paused one: the panel below tells why
    await settle(pilot)


async def cancel_dialog(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    """demo.charge paused (its queued rows marked, the top line names it), and the cancel
    dialog open on a running job."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, JobdeckApp)
    await app.engine.pause("demo.charge", reason="provider maintenance", by="ops")
    main = app.screen
    assert isinstance(main, MainScreen)
    main.reload()
    await settle(pilot)
    main.pane(Status.RUNNING).focus_pane()
    await pilot.press("x")
    await settle(pilot)


async def workers_view(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)
    await pilot.press("w")
    await settle(pilot)


async def kinds_view(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    """Sorted by p95, slowest first: the column an incident asks about."""
    await settle(pilot)
    await pilot.press("k")
    await settle(pilot)
    screen: Any = pilot.app.screen
    screen.kind_list.sort_by("p95")
    await settle(pilot)


async def kind_detail(pilot: Pilot[Any], picks: dict[str, str]) -> None:
    await settle(pilot)
    await pilot.press("k")
    await settle(pilot)
    screen: Any = pilot.app.screen
    screen.kind_list.table.move_cursor(screen.kind_list.table.keys.index("mail.send"))
    await pilot.press("enter")
    await settle(pilot)


SHOTS: dict[str, tuple[Scene, Step]] = {
    "main": (build, main_screen),
    "detail-denied": (build, denied_detail),
    "rerun-verdict": (build, rerun_verdict),
    "failure-groups": (build, failure_groups),
    "schedules": (build_schedules, schedules),
    "cancel-dialog": (build, cancel_dialog),
    "workers": (build_system, workers_view),
    "kinds": (build_system, kinds_view),
    "kind-detail": (build_system, kind_detail),
}
# The system's pictures run their own kinds, whose handlers move the clock by their run time.
OWN_REGISTRY: dict[Scene, Callable[[Clock], Registry]] = {build_system: system_registry}


async def shoot(name: str, scene: Scene, step: Step) -> str:
    """The SVG of one picture, drawn on a fresh database in a temporary folder."""
    from jobdeck.storage import open_store

    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        store = await open_store(str(Path(tmp) / "demo.db"))
        registry = OWN_REGISTRY[scene](clock) if scene in OWN_REGISTRY else scene_registry()
        engine = Engine(store, registry, clock=clock, ids=Ids(), rng=random.Random(1))
        try:
            picks = await scene(engine, clock)
            app = JobdeckApp(engine=engine, db_label=DB_LABEL, allow_faults=True, tick=None)
            async with app.run_test(size=SIZE) as pilot:
                await step(pilot, picks)
                svg: str = app.export_screenshot(title=f"jobdeck — {name}")
        finally:
            await store.close()
    return svg


async def shoot_all() -> dict[str, str]:
    return {name: await shoot(name, scene, step) for name, (scene, step) in SHOTS.items()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for name, svg in asyncio.run(shoot_all()).items():
        path = folder / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
