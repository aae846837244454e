"""The monitor attaches to a PostgreSQL URL exactly as to a file."""

from __future__ import annotations

from jobdeck.core import Engine, Status, Worker, demo_registry
from jobdeck.storage import open_store
from jobdeck.tui.app import JobdeckApp
from jobdeck.tui.screens.main import MainScreen


async def test_the_monitor_paints_the_panes_of_a_postgres_database(pg_url: str) -> None:
    store = await open_store(pg_url)
    engine = Engine(store, demo_registry())
    done = await engine.submit("demo.echo", {"n": 1})
    denied = await engine.submit("demo.charge", {"amount": 1, "currency": "EUR"})
    await Worker(engine, burst=True, poll=0.01).run()
    queued = await engine.submit("demo.echo", {"n": 2})
    await store.close()

    async def factory() -> Engine:
        return Engine(await open_store(pg_url, read_only=True), demo_registry())

    app = JobdeckApp(engine_factory=factory, db_label=pg_url, read_only=True, tick=None)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        counts = await app.engine.counts()
        assert (counts[Status.QUEUED], counts[Status.DONE], counts[Status.FAILED]) == (1, 1, 1)
        shown = app.export_screenshot()
        for job in (done, denied, queued):
            assert job.id[-6:] in shown
        assert "missing_id" in shown
