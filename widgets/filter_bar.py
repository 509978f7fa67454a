"""The `/` input (k9s's habit): one full-width line that narrows the view it sits in.

A view that can be filtered holds one `FilterBar`; the screen's `/` opens the bar of the tab
on show, so a panel gets the key by holding a bar. Typing narrows as you type (the owner
listens to `Input.Changed`); Escape clears it, hides a bar that hides, and says so
(`Cleared`), so the owner can show everything again and take focus back.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    """Full width; with `hides`, shown only from `/` until Escape."""

    DEFAULT_CSS = """
    FilterBar {
        width: 1fr;
    }
    FilterBar.-hides {
        display: none;
    }
    FilterBar.-hides.-open {
        display: block;
    }
    """
    BINDINGS = [Binding("escape", "clear_and_leave", "Clear filter", id="filter.clear")]

    class Cleared(Message):
        """Escape emptied the bar: show everything again and take focus back."""

        def __init__(self, bar: FilterBar) -> None:
            super().__init__()
            self.bar = bar

        @property
        def control(self) -> FilterBar:
            return self.bar

    def __init__(self, *, placeholder: str, hides: bool = False, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, classes="-hides" if hides else None)

    def open(self) -> None:
        """`/`: show the bar and type into it."""
        self.add_class("-open")
        # At once, not after the next refresh as `focus()` does: keys typed right after `/`
        # (a fast typist over SSH, a paste) are already queued and would go elsewhere. And
        # `focus()` too, so a tab switch's own deferred focus (Memory from another tab) is
        # not the last word.
        self.screen.set_focus(self)
        self.focus()

    def action_clear_and_leave(self) -> None:
        self.value = ""
        self.remove_class("-open")
        self.post_message(self.Cleared(self))
