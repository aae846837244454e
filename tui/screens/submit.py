"""The submit dialog: pick a kind, write a JSON payload; errors show inline, never crash."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, Static, TextArea

from jobdeck.core import Job, JobdeckError, Registry

Submit = Callable[[str, object], Awaitable[Job]]


def payload_hint(registry: Registry, kind: str) -> str:
    """The payload fields a kind expects, from its model's JSON schema."""
    schema = registry.get(kind).payload.model_json_schema()
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return "any JSON object"
    required = set(schema.get("required", []))
    parts = []
    for name, spec in properties.items():
        kind_of = spec.get("type") or "/".join(
            str(option.get("type", option.get("const", "?"))) for option in spec.get("anyOf", [])
        )
        if "enum" in spec:
            kind_of = "|".join(str(v) for v in spec["enum"])
        parts.append(f"{name}: {kind_of or 'any'}{'' if name in required else '?'}")
    return "fields: " + ", ".join(parts)


def parse_payload(text: str) -> object:
    """The payload as JSON; raises ValueError with one sentence naming where it broke."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"Not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}."
        ) from None


class SubmitScreen(ModalScreen[Job | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Submit"),
    ]

    def __init__(self, registry: Registry, submit: Submit) -> None:
        super().__init__(classes="dialog-screen")
        self.registry = registry
        self.submit = submit

    def compose(self) -> ComposeResult:
        kinds = self.registry.names()
        with Vertical(classes="dialog", id="submit-dialog") as dialog:
            dialog.border_title = "Submit a job"
            yield Label("kind")
            yield Select([(k, k) for k in kinds], value=kinds[0], allow_blank=False, id="kind")
            yield Static(payload_hint(self.registry, kinds[0]), id="payload-hint")
            yield Label("payload (JSON object)")
            yield TextArea("{}", id="payload", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="submit-error")
            with Horizontal(classes="buttons"):
                yield Button("Submit (ctrl+s)", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#payload", TextArea).focus()

    @property
    def error(self) -> str:
        return str(self.query_one("#submit-error", Static).content)

    def show_error(self, message: str) -> None:
        error = self.query_one("#submit-error", Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    @on(Select.Changed, "#kind")
    def _kind(self, event: Select.Changed) -> None:
        self.query_one("#payload-hint", Static).update(
            payload_hint(self.registry, str(event.value))
        )

    @on(TextArea.Changed, "#payload")
    def _edited(self) -> None:
        self.show_error("")

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        kind = str(self.query_one("#kind", Select).value)
        try:
            payload = parse_payload(self.query_one("#payload", TextArea).text)
        except ValueError as err:
            self.show_error(str(err))
            return
        self._send(kind, payload)

    @work(exclusive=True)
    async def _send(self, kind: str, payload: object) -> None:
        try:
            job = await self.submit(kind, payload)
        except JobdeckError as err:
            self.show_error(str(err))
            return
        self.dismiss(job)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
