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
    (
        "Cancel job",
        "stop the selected job; it ends failed, reason cancelled",
        "cancel_job",
        "write",
    ),
    (
        "Pause or resume kind",
        "stop or restart every worker claiming the selected job's kind",
        "pause_kind",
        "write",
    ),
    ("Submit a job", "pick a kind and write a JSON payload", "submit", "write"),
    ("Filter jobs", "match kind, id, reason code or payload text", "filter", ""),
    ("Group failures by reason", "toggle the Failed pane's group view", "group", ""),
    ("Export incident report", "write the selected job as Markdown", "export", ""),
    ("Schedules", "periodic schedules: next and last run, pause, their jobs", "schedules", ""),
    ("Workers", "every worker: host, pid, heartbeat, running, done and failed", "workers_view", ""),
    ("Kinds", "per kind: counts, rates, failure rate, run-time percentiles", "kinds_view", ""),
    ("Show every worker's jobs", "clear the worker filter", "clear_worker", ""),
]
WORKERS: list[tuple[str, str, str, str]] = [
    (
        "Show worker's jobs",
        "filter the panes to the selected worker's running jobs",
        "filter_worker",
        "",
    ),
    ("Kinds", "per kind: counts, rates, failure rate, run-time percentiles", "kinds", ""),
    ("Back", "return to the panes", "app.pop_screen", ""),
]
KINDS: list[tuple[str, str, str, str]] = [
    ("Show kind's run times", "run-time histogram and throughput over time", "open_kind", ""),
    ("Sort by next column", "the header marks the sorted column ▲ or ▼", "sort_next", ""),
    ("Reverse order", "largest first or smallest first", "reverse", ""),
    ("Workers", "every worker: host, pid, heartbeat, running, done and failed", "workers", ""),
    ("Back", "return to the panes", "app.pop_screen", ""),
]
KIND_DETAIL: list[tuple[str, str, str, str]] = [
    ("Back", "return to the kinds", "app.pop_screen", ""),
]
SCHEDULES: list[tuple[str, str, str, str]] = [
    ("Show schedule's jobs", "the jobs the selected schedule made, newest first", "show_jobs", ""),
    ("Pause or resume schedule", "for every worker, after a confirm", "toggle_pause", "write"),
    ("Back", "return to the panes", "app.pop_screen", ""),
]
SCHEDULE_JOBS: list[tuple[str, str, str, str]] = [
    ("Open job detail", "contract, reason, attempts, retry decision, lineage", "open_detail", ""),
    ("Back", "return to the schedules", "app.pop_screen", ""),
]
DETAIL: list[tuple[str, str, str, str]] = [
    ("Force a failure", "fail this job's (or its kind's) next attempt", "force_fault", "fault"),
    ("Rerun job", "run this job again and show the verdict", "rerun", "fault"),
    ("Cancel job", "stop this job; it ends failed, reason cancelled", "cancel_job", "write"),
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
        listed = self._listed()
        out = []
        for title, text, action, needs in [*listed, *APP]:
            if needs and app.mode.read_only:
                continue
            if needs == "fault" and not app.mode.allow_faults:
                text = f"off: start with --allow-faults ({text})"
            out.append((title, text, action))
        return out

    def _listed(self) -> list[tuple[str, str, str, str]]:
        """The entries of the screen under the palette."""
        if self.screen.id == "main":
            return MAIN
        for class_, entries in (
            ("detail-screen", DETAIL),
            ("schedules-screen", SCHEDULES),
            ("schedule-jobs-screen", SCHEDULE_JOBS),
            ("workers-screen", WORKERS),
            ("kinds-screen", KINDS),
            ("kind-detail-screen", KIND_DETAIL),
        ):
            if class_ in self.screen.classes:
                return entries
        return []

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
