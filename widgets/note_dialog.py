"""A one-line input for a note on an incident: Enter adds it, Escape leaves without one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NoteDialog(ModalScreen[str | None]):
    """Asks for a note's text; dismisses with it (stripped), or None when cancelled."""

    DEFAULT_CSS = """
    NoteDialog {
        align: center middle;
    }
    NoteDialog > Vertical {
        width: 70;
        max-width: 95%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title))
            yield Input(placeholder="the note", id="note-text")
            yield Static(Text("Enter adds it, Escape cancels", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
