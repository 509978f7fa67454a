"""The keys, all of them, in one overlay: what works anywhere and what each tab adds.

Textual's own help panel docks beside the app (at 80 columns it squeezed the workbench to 50)
and lists only the focused widget's keys, so a new operator could not learn the tab keys from
it. This overlay covers the app without resizing it, names the keys the app really uses (its
bindings after the config's keymap, handed in) and each tab's own keys; `?` or Escape closes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: What each tab adds to the keys that work anywhere: (tab, [(key, what it does)]).
TAB_KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Team", (("↑↓ j k", "select an agent"), ("type", "quick chat with the selected agent"))),
    (
        "Chat",
        (
            ("type, Enter", "talk to the agent (or the team channel)"),
            ("↑↓", "earlier lines you sent"),
            ("Escape", "leave the input (tab keys work again)"),
            ("/", "after Escape: show only the lines holding every word typed"),
        ),
    ),
    (
        "Memory",
        (
            ("/", "search (recall by meaning), Enter runs it"),
            ("Escape", "clear the search and leave it"),
            ("↑↓ j k", "move through memories; the detail follows"),
        ),
    ),
    ("Skills", (("↑↓ j k", "move through skills"),)),
    (
        "Approvals",
        (("↑↓ j k", "choose a request"), ("a / d", "approve / deny (high risk asks first)")),
    ),
    (
        "Ops",
        (
            ("/", "filter targets and incidents by text"),
            ("Escape", "clear the filter and leave it"),
            ("↑↓ j k, Tab", "move in a table, to the other table"),
            ("Enter", "a target's or an incident's detail"),
            ("a r o n", "in an incident: ack, resolve, reopen, add a note"),
            ("s / S", "in a target: silence it (how long, why) / end it"),
        ),
    ),
    (
        "Activity",
        (
            ("↑↓ j k", "scroll the log; End follows new lines again"),
            ("/", "show only the lines holding every word typed"),
            ("Escape", "clear the filter and leave it"),
        ),
    ),
)


def keys_text(anywhere: Sequence[tuple[str, str]]) -> Text:
    """The help's text: `anywhere` (key, what) first, then each tab's keys."""
    text = Text()
    text.append("Anywhere\n", style="bold")
    # Two columns: the keys that work anywhere are many and short, and one screen should
    # show them together with the first tabs' keys at 80x24.
    half = (len(anywhere) + 1) // 2
    for row in range(half):
        for column, (key, what) in enumerate(anywhere[row::half][:2]):
            text.append(f"  {key:>12}  " if column == 0 else f"  {key:>5}  ", style="bold")
            text.append(f"{what:<18}" if column == 0 else what)
        text.append("\n")
    for tab, keys in TAB_KEYS:
        text.append(f"\n{tab}\n", style="bold")
        for key, what in keys:
            text.append(f"  {key:>12}  ", style="bold")
            text.append(f"{what}\n")
    return text


class KeysHelp(ModalScreen[None]):
    """Every key over the app (which keeps its size); `?` or Escape closes it."""

    DEFAULT_CSS = """
    KeysHelp {
        align: center middle;
    }
    KeysHelp > VerticalScroll {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        border-title-color: $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("question_mark,escape", "close", "Close", id="keys_help.close"),
        Binding("j", "scroll(1)", "Down", show=False, id="keys_help.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="keys_help.up"),
    ]

    def __init__(self, anywhere: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.anywhere = list(anywhere)

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="keys-help")
        box.border_title = "Keys · ? or Escape closes"
        box.border_subtitle = "↑↓ j k scroll"
        with box:
            yield Static(keys_text(self.anywhere), id="keys-help-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_scroll(self, rows: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=rows, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
