"""Chat with the selected agent, and the team channel: input with history, replies as they
come, each reply's decision and explanation folded away until asked for.

The selected agent comes down from the screen (`agent`, data-bound); what the operator types
goes up as `Sent`; what agents say to the team arrives as kernel events."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widgets import Collapsible, Input, Static, Tab, Tabs

from agent.events import AgentSaid, KernelEvent
from widgets.kernel_messages import KernelEventArrived
from widgets.literal_text import assemble, literal

MAX_MESSAGES = 200


class HistoryInput(Input):
    """An input that remembers what was sent: up and down walk through it."""

    BINDINGS = [
        Binding("up", "older", "Older", show=False, id="chat.older"),
        Binding("down", "newer", "Newer", show=False, id="chat.newer"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[str] = []
        self._cursor = 0

    def remember(self, text: str) -> None:
        if text and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
        self._cursor = len(self.sent)

    def action_older(self) -> None:
        if self.sent and self._cursor > 0:
            self._cursor -= 1
            self.value = self.sent[self._cursor]
            self.cursor_position = len(self.value)

    def action_newer(self) -> None:
        if self._cursor < len(self.sent) - 1:
            self._cursor += 1
            self.value = self.sent[self._cursor]
        else:
            self._cursor = len(self.sent)
            self.value = ""
        self.cursor_position = len(self.value)


class ChatPanel(Vertical):
    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (AgentSaid,)
    DEFAULT_CSS = """
    ChatPanel {
        height: 1fr;
    }
    ChatPanel > #chat-log {
        height: 1fr;
        padding: 0 1;
    }
    ChatPanel .chat-operator {
        color: $text-muted;
        margin-top: 1;
    }
    ChatPanel .chat-agent {
        color: $text;
    }
    ChatPanel .chat-team {
        color: $accent;
    }
    ChatPanel Collapsible {
        padding: 0;
        margin: 0 0 0 2;
        border: none;
        background: $surface;
    }
    """

    class Sent(Message):
        """The operator sent `text` to the selected agent, or to the team."""

        def __init__(self, text: str, channel: str) -> None:
            super().__init__()
            self.text = text
            self.channel = channel

    #: The agent the chat talks to (bound to the screen's selected agent).
    agent: var[str | None] = var(None)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.transcript: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield Tabs(Tab("Agent", id="chat-agent"), Tab("Team", id="chat-team"), id="chat-tabs")
        yield VerticalScroll(id="chat-log")
        yield HistoryInput(
            placeholder="talk to the agent: how are you feeling? check shop …", id="chat-input"
        )

    @property
    def channel(self) -> str:
        return "team" if self.query_one(Tabs).active == "chat-team" else "agent"

    def watch_agent(self, name: str | None) -> None:
        if name is not None:
            self.border_title = f"Chat · {name}"

    def focus_input(self) -> None:
        self.query_one(HistoryInput).focus()

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, AgentSaid) and event.channel == "team" and event.agent:
            self.show_team(event.agent, event.text)

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        field = self.query_one(HistoryInput)
        field.remember(text)
        field.value = ""
        self.add_line("you", text, "chat-operator")
        self.post_message(self.Sent(text, self.channel))

    def add_line(self, who: str, text: str, style: str) -> Static:
        line = Static(assemble((who, "bold"), ": ", text), classes=style)
        self._mount(line)
        self.transcript.append((who, text))
        return line

    def show_reply(
        self, agent: str, text: str, detail: str, explanation: dict[str, Any] | None
    ) -> None:
        """A reply, with the decision behind it folded (Enter on 'why' opens it)."""
        self.add_line(agent, text, "chat-agent")
        if explanation:
            body = explanation.get("summary", "")
            options = explanation.get("options") or []
            if options:
                body += "\n" + "\n".join(f"  {o['option']}: {o['utility']:+.2f}" for o in options)
            self._mount(Collapsible(Static(literal(body)), title=f"why ({detail})", collapsed=True))

    def show_team(self, sender: str, text: str) -> None:
        self.add_line(f"{sender} → team", text, "chat-team")

    def _mount(self, widget: Static | Collapsible) -> None:
        if not self.is_attached:  # a line arriving while the app closes has nowhere to go
            return
        log = self.query_one("#chat-log", VerticalScroll)
        log.mount(widget)
        extra = len(log.children) - MAX_MESSAGES
        for old in list(log.children)[: max(0, extra)]:
            old.remove()
        log.scroll_end(animate=False)
