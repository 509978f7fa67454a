"""A yes/no question in a modal: used before approving or denying a high-risk action.

The question is literal text (a `str` is not read as markup): it quotes names and arguments.
A long request scrolls inside the dialog while the buttons stay on screen, so a small terminal
can always answer it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from widgets.literal_text import literal


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
    }
    ConfirmDialog > Vertical {
        width: 70;
        max-width: 90%;
        height: auto;
        max-height: 100%;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmDialog #confirm-body {
        height: auto;
        max-height: 100%;
    }
    ConfirmDialog Horizontal {
        dock: bottom;
        height: auto;
        align: right middle;
        margin-top: 1;
    }
    ConfirmDialog Button {
        margin-left: 2;
    }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str | Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            question = self.question
            with VerticalScroll(id="confirm-body"):
                yield Static(
                    literal(question) if isinstance(question, str) else question,
                    id="confirm-question",
                )
            with Horizontal():
                yield Button("No (n)", id="no")
                yield Button("Yes (y)", id="yes", variant="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
