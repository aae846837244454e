"""The command palette (ctrl+p): every action of the current screen, by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from jobdeck.tui.app import JobdeckApp

# (title, help, action on the screen, needs: "" | "write" | "fault")
MAIN: list[tuple[str, str, str, str]] = [
    ("Open job detail", "contract, reason, attempts, retry decision, lineage", "open_detail", ""),
    (
        "Force a failure",
        "fail the selected job's (or a kind's) next attempt",
        "force_fault",
        "fault",
    ),
    ("Rerun job", "run the selected job again and show the verdict", "rerun", "fault"),
    ("Submit a job", "pick a kind and write a JSON payload", "submit", "write"),
    ("Filter jobs", "match kind, id, reason code or payload text", "filter", ""),
    ("Group failures by reason", "toggle the Failed pane's group view", "group", ""),
    ("Export incident report", "write the selected job as Markdown", "export", ""),
]
DETAIL: list[tuple[str, str, str, str]] = [
    ("Force a failure", "fail this job's (or its kind's) next attempt", "force_fault", "fault"),
    ("Rerun job", "run this job again and show the verdict", "rerun", "fault"),
    ("Export incident report", "write this job as Markdown", "export", ""),
    ("Back", "return to the panes", "app.pop_screen", ""),
]
APP: list[tuple[str, str, str, str]] = [
    ("Help", "every key and what the failure categories mean", "app.help", ""),
    ("Quit", "leave the monitor", "app.quit", ""),
]


class JobdeckCommands(Provider):
    def _entries(self) -> list[tuple[str, str, str]]:
        app = cast("JobdeckApp", self.app)
        screen_id = self.screen.id or ""
        listed = (
            MAIN
            if screen_id == "main"
            else DETAIL
            if "detail-screen" in self.screen.classes
            else []
        )
        out = []
        for title, text, action, needs in [*listed, *APP]:
            if needs and app.mode.read_only:
                continue
            if needs == "fault" and not app.mode.allow_faults:
                text = f"off: start with --allow-faults ({text})"
            out.append((title, text, action))
        return out

    async def discover(self) -> Hits:
        for title, text, action in self._entries():
            yield DiscoveryHit(title, partial(self.screen.run_action, action), help=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, text, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.screen.run_action, action),
                    help=text,
                )
