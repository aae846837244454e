"""The monitor attached to PostgreSQL while the server restarts (`pg_ctl stop -m immediate`,
then start): the status line says "store unreachable, retrying" in words, the ticks go on, and
once the server is back the line clears and a job submitted meanwhile shows, with no key pressed.
A server of its own: the shared one (`pg_url`) must not go away under other tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from jobdeck.core import Engine, Status, demo_registry
from jobdeck.storage import open_store
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.main import MainScreen
from tests import pg_cluster

TICK = 0.05
WAIT = 30.0  # seconds: an upper bound, never reached when it works


@pytest.fixture
def cluster() -> Iterator[pg_cluster.Cluster]:
    try:
        server = pg_cluster.start()
    except pg_cluster.Unavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


def header(app: JobdeckApp) -> str:
    return str(app.screen.query_one("#status-bar").render())


async def until(pilot: Pilot[object], holds: Callable[[], bool]) -> bool:
    for _ in range(int(WAIT / TICK)):
        if holds():
            return True
        await pilot.pause(TICK)
    return holds()


async def submit(url: str, n: int) -> None:
    store = await open_store(url)
    try:
        await Engine(store, demo_registry()).submit("demo.echo", {"n": n})
    finally:
        await store.close()


async def test_the_monitor_says_unreachable_through_a_restart_and_recovers_by_itself(
    cluster: pg_cluster.Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    url = cluster.url()
    await submit(url, 1)

    async def factory() -> Engine:
        return Engine(await open_store(url, read_only=True), demo_registry())

    app = JobdeckApp(engine_factory=factory, db_label=url, read_only=True, tick=TICK)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await until(pilot, lambda: isinstance(app.screen, MainScreen))
        screen = app.screen
        assert isinstance(screen, MainScreen)
        queued = screen.pane(Status.QUEUED)
        assert await until(pilot, lambda: str(queued.border_title) == "Queued 1")

        await asyncio.to_thread(cluster.crash)
        assert await until(pilot, lambda: "store unreachable, retrying" in header(app)), header(app)
        assert not app._notifications  # said on the status line, not in a pile of toasts

        await asyncio.to_thread(cluster.restart)
        await submit(url, 2)  # made while the monitor was still retrying
        assert await until(pilot, lambda: "unreachable" not in header(app)), header(app)
        assert await until(pilot, lambda: str(queued.border_title) == "Queued 2")
        assert not app._notifications
