"""A small form for a new agent (name and preset), and the first-run welcome."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from agent.mind.personality import PRESETS


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

    def __init__(self, intro: str = "") -> None:
        super().__init__()
        self.intro = intro

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
        if name:
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
