"""The monitor after retention: a rerun whose original was pruned shows it in its lineage."""

from __future__ import annotations

from pathlib import Path

from conftest import MakeApp, settle
from monitor_scenario import CHARGE_DONE, Clock, Ids, finish_all
from test_actions import detail_screen, text_of

from jobdeck.tui.screens.detail import DetailScreen
from jobdeck.tui.widgets.lineage_view import LineageView
from jobdeck.tui.widgets.verdict_view import VerdictView

Scene = tuple[Path, Clock, Ids]


async def test_the_lineage_of_a_rerun_whose_original_was_pruned_says_original_pruned(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        clock = scene[1]
        clock.advance(3600)
        rerun = await app.engine.rerun(CHARGE_DONE)
        await finish_all(app.engine, clock)
        pruned = await app.engine.prune(done_older_than=1800, kind="demo.charge")
        assert pruned.jobs >= 1
        await app.push_screen(DetailScreen(rerun.id))
        await settle(pilot)
        assert detail_screen(app).job_id == rerun.id
        lineage = text_of(app, LineageView.__name__)
        assert "rerun of" in lineage and CHARGE_DONE in lineage, lineage
        assert "original pruned" in lineage, lineage
        assert not app.screen.query(VerdictView.__name__)  # no original to compare with


async def test_a_rerun_whose_original_lives_shows_no_pruning(
    make_app: MakeApp, scene: Scene
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rerun = await app.engine.rerun(CHARGE_DONE)
        await finish_all(app.engine, scene[1])
        await app.push_screen(DetailScreen(rerun.id))
        await settle(pilot)
        lineage = text_of(app, LineageView.__name__)
        assert CHARGE_DONE in lineage and "pruned" not in lineage, lineage
