"""A small form for a new agent (name and preset), and the first-run welcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from agent.errors import WebopsError
from agent.mind.personality import PRESETS

#: Creates the agent (name, preset) or raises a `WebopsError` saying why it cannot.
Create = Callable[[str, str], Awaitable[object]]


class NewAgentDialog(ModalScreen[tuple[str, str] | None]):
    DEFAULT_CSS = """
    NewAgentDialog {
        align: center middle;
    }
    NewAgentDialog > Vertical {
        width: 60;
        max-width: 95%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    NewAgentDialog Horizontal {
        height: auto;
        align: right middle;
        margin-top: 1;
    }
    NewAgentDialog Button {
        margin-left: 2;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new_agent.cancel")]

    def __init__(self, intro: str = "", create: Create | None = None) -> None:
        """With `create`, the dialog creates the agent itself and stays open on an error (a
        taken or malformed name), showing why with what was typed still there to correct."""
        super().__init__()
        self.intro = intro
        self._create_agent = create

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.intro:
                yield Static(self.intro, id="new-agent-intro")
            yield Input(placeholder="name (letters, digits, - or _)", id="new-agent-name")
            yield Select(
                [(p, p) for p in PRESETS],
                value="balanced",
                allow_blank=False,
                id="new-agent-preset",
            )
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")
            yield Static("", id="new-agent-error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self._create()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self._create()

    def _create(self) -> None:
        name = self.query_one("#new-agent-name", Input).value.strip()
        preset = str(self.query_one("#new-agent-preset", Select).value)
        if not name:
            return
        if self._create_agent is None:
            self.dismiss((name, preset))
        else:
            self.run_worker(self._try(name, preset), exclusive=True, group="new-agent")

    async def _try(self, name: str, preset: str) -> None:
        assert self._create_agent is not None
        try:
            await self._create_agent(name, preset)
        except WebopsError as exc:
            self.query_one("#new-agent-error", Static).update(Text(exc.message, style="bold red"))
            self.query_one("#new-agent-name", Input).focus()
            return
        self.dismiss((name, preset))

    def action_cancel(self) -> None:
        self.dismiss(None)


class WelcomeDialog(ModalScreen[str]):
    """First run, no agents: create one, or watch the demo world."""

    DEFAULT_CSS = """
    WelcomeDialog {
        align: center middle;
    }
    WelcomeDialog > Vertical {
        width: 64;
        max-width: 95%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    WelcomeDialog Horizontal {
        height: auto;
        align: center middle;
        margin-top: 1;
    }
    WelcomeDialog Button {
        margin: 0 1;
    }
    """
    BINDINGS = [
        Binding("n", "choose('new')", "New agent", id="welcome.new"),
        Binding("d", "choose('demo')", "Demo", id="welcome.demo"),
        Binding("escape", "choose('later')", "Later", id="welcome.later"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "[b]Welcome to webops.[/b]\n\nThere are no agents yet. Create one (n), or start "
                "the demo world (d): real services on 127.0.0.1 with injected faults, and a "
                "team of three agents that learns to fix them. Escape to look around first."
            )
            with Horizontal():
                yield Button("New agent (n)", id="new", variant="primary")
                yield Button("Start the demo (d)", id="demo")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(str(event.button.id))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
