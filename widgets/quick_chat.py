"""The Team tab's one-line chat: say something to the selected agent without leaving the team.

It is the same conversation as the Chat tab: what the operator types goes up as `Sent` (the
screen copies it into the chat panel and asks the agent), and the agent's answer comes back
through `show_reply`.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from widgets.literal_text import assemble


class QuickChat(Horizontal):
    DEFAULT_CSS = """
    QuickChat > #quick-chat-input {
        width: 2fr;
    }
    QuickChat > #quick-reply {
        width: 3fr;
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    """

    class Sent(Message):
        """The operator said `text` to the selected agent."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield Input(placeholder="say something to the agent (Enter)…", id="quick-chat-input")
        yield Static("", id="quick-reply")

    @on(Input.Submitted, "#quick-chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        event.input.value = ""
        if text:
            self.post_message(self.Sent(text))

    def show_reply(self, agent: str, text: str) -> None:
        self.query_one("#quick-reply", Static).update(assemble((agent, "bold"), ": ", text))
