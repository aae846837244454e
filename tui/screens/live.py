"""What the Workers, Kinds and kind-detail views share: a read before the first paint and on
each tick while the view is open (a closed view reads nothing), one notification per distinct
JobdeckError, and the app at hand."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import work
from textual.screen import Screen

from jobdeck.core import JobdeckError

if TYPE_CHECKING:
    from jobdeck.tui.app import JobdeckApp


class LiveScreen(Screen[None]):
    def __init__(self, *, classes: str) -> None:
        super().__init__(classes=classes)
        self._last_error = ""

    @property
    def jobdeck(self) -> JobdeckApp:
        return cast("JobdeckApp", self.app)

    async def start(self) -> None:
        """Read, then read on each tick. Each screen's on_mount awaits it (Textual calls the
        on_mount of every class of a screen, so a base's own would run twice): awaited before
        the first paint, so that paint already shows the data."""
        await self.load()
        if self.jobdeck.tick:
            self.set_interval(self.jobdeck.tick, self.refresh_data)

    @work(group="live", exclusive=True)
    async def refresh_data(self) -> None:
        await self.load()

    async def load(self) -> None:
        try:
            await self.read()
        except JobdeckError as err:
            if str(err) != self._last_error:  # one notification per distinct trouble
                self._last_error = str(err)
                self.notify(str(err), severity="error", title="jobdeck")
            return
        self._last_error = ""

    async def read(self) -> None:
        """Read and show what the screen holds; raises JobdeckError."""
        raise NotImplementedError
