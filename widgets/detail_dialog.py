"""A detail over the app: its lines in a box that scrolls; Escape (or Enter) closes it.

An incident's detail and a target's both open from Ops and differ only in their lines, so
they share this one dialog (each line a `Static` of the given class, rendered literally).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class DetailDialog(ModalScreen[None]):
    """Lines of detail under a title; Escape (or Enter) closes it."""

    DEFAULT_CSS = """
    DetailDialog {
        align: center middle;
    }
    DetailDialog > Vertical {
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    DetailDialog VerticalScroll {
        height: auto;
        max-height: 100%;
    }
    DetailDialog .detail-hint {
        color: $text-muted;
        dock: bottom;
        border-top: hkey $panel;
    }
    """
    BINDINGS = [Binding("escape,enter", "close", "Close", id="detail.close")]

    def __init__(
        self, title: Text, lines: Sequence[Text], *, kind: str, hint: str = "Escape closes"
    ) -> None:
        super().__init__()
        self._title = title
        self.lines = list(lines)
        self._kind = kind
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id=f"{self._kind}-detail"):
                for line in self.lines:
                    yield Static(line, classes=f"{self._kind}-line")
            yield Static(self._hint, classes="detail-hint")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = self._title

    @property
    def text(self) -> str:
        """What the dialog says, as plain text (one line each)."""
        return "\n".join(line.plain for line in self.lines)

    async def replace_lines(self, lines: Sequence[Text]) -> None:
        """Show `lines` instead (the thing shown changed while the dialog was open)."""
        self.lines = list(lines)
        scroll = self.query_one(VerticalScroll)
        await scroll.remove_children()
        await scroll.mount_all([Static(line, classes=f"{self._kind}-line") for line in lines])

    def action_close(self) -> None:
        self.dismiss(None)
