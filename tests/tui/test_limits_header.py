"""The header names the limited kinds and what they use, on a second line that only appears when
a kind has a limit, and says FULL in words (readable without colour) at 80 columns."""

from __future__ import annotations

from pathlib import Path

from conftest import MakeApp, settle
from monitor_scenario import Clock, Ids

from jobdeck.core.limits import KindLimits, Rate
from jobdeck.storage import open_store


async def test_the_header_shows_no_limits_line_without_limits(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = str(app.screen.query_one("#status-bar").render())
        assert "limited" not in header and "\n" not in header


async def test_the_header_lists_limited_kinds_with_what_they_use(
    make_app: MakeApp, scene: tuple[Path, Clock, Ids]
) -> None:
    path, clock, _ = scene
    store = await open_store(str(path))
    try:
        await store.declare_limits(
            "w-1",
            [
                KindLimits("demo.echo", concurrency=1),
                KindLimits("demo.flaky", rate=Rate(100, 60.0)),
            ],
            clock(),
        )
    finally:
        await store.close()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = str(app.screen.query_one("#status-bar").render())
        first, second = header.splitlines()
        assert "jobs.db" in first
        assert second.startswith(" limited")
        assert "demo.flaky 100/100 per minute" in second
        assert "demo.echo 0/1 run" in second and "FULL" not in second
        assert len(second) <= 80
