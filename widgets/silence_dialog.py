"""Asks how long and why to silence a target: the workbench's `webops silence TARGET`.

An on-call engineer looking at a target's detail should not need the CLI to hold its
incidents and remedies off during work on it. The duration is read the way the CLI reads
`--for` (agent/ops/durations.py); a span it refuses keeps the dialog open, saying why, with
what was typed still there to correct.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agent.errors import WebopsError
from agent.ops.durations import parse_duration
from widgets.literal_text import literal

#: How long a silence lasts unless the person says otherwise (the CLI's default too).
DEFAULT_FOR = "1h"


class SilenceDialog(ModalScreen[tuple[float, str] | None]):
    """Dismisses with (seconds, reason), or None when cancelled."""

    DEFAULT_CSS = """
    SilenceDialog {
        align: center middle;
    }
    SilenceDialog > Vertical {
        width: 70;
        max-width: 95%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    SilenceDialog #silence-error {
        color: $error;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="silence.cancel")]

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble("Silence ", (self.target, "bold"), ": checks go on, no incident")
            )
            yield Input(DEFAULT_FOR, placeholder="for how long: 30m, 2h, 1d", id="silence-for")
            yield Input(placeholder="why, as others will read it", id="silence-reason")
            yield Static("Enter silences, Escape cancels", classes="silence-hint")
            yield Static("", id="silence-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        span = self.query_one("#silence-for", Input).value
        reason = self.query_one("#silence-reason", Input).value.strip()
        try:
            seconds = parse_duration(span.strip(), "how long")
        except WebopsError as exc:
            self.query_one("#silence-error", Static).update(literal(exc.message))
            self.query_one("#silence-for", Input).focus()
            return
        if seconds <= 0:
            self.query_one("#silence-error", Static).update(Text("how long must be more than 0"))
            return
        self.dismiss((seconds, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
