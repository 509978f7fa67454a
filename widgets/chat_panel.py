"""Chat with the selected agent, and the team channel: input with history, replies as they
come, each reply's decision and explanation folded away until asked for.

The conversation and the team channel are two logs (the Agent and Team sub-tabs): team
announcements arrive several a second in an incident and would scroll a reply away. Each log
follows new lines only while scrolled to the bottom (see `widgets.follow`).

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
from textual.widget import Widget
from textual.widgets import Collapsible, Input, Static, Tab, Tabs

from agent.events import AgentSaid, KernelEvent
from agent.social.messaging import OPERATOR_PREFIX
from widgets.filter_bar import FilterBar
from widgets.follow import PAUSED, at_bottom
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


class ChatLog(VerticalScroll):
    """One channel's lines; follows new ones only while scrolled to the bottom."""

    #: False while the reader has scrolled up: new lines arrive without moving the view.
    following: var[bool] = var(True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = at_bottom(self, new_value)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The plain text of each line, for the `/` filter.
        self._texts: dict[Widget, str] = {}
        self._words: list[str] = []

    def append(self, widget: Static | Collapsible, text: str) -> None:
        """Add a line (dropping the oldest beyond `MAX_MESSAGES`), following if following."""
        self._texts[widget] = text.casefold()
        widget.display = self._matches(widget)
        self.mount(widget)
        extra = len(self.children) - MAX_MESSAGES
        for old in list(self.children)[: max(0, extra)]:
            self._texts.pop(old, None)
            old.remove()
        if self.following:
            self.scroll_end(animate=False)

    def show_only(self, typed: str) -> None:
        """`/`: only the lines holding every word typed ('' shows them all)."""
        self._words = typed.casefold().split()
        for line in self.children:
            line.display = self._matches(line)
        if self.following:
            self.scroll_end(animate=False)

    def _matches(self, line: Widget) -> bool:
        text = self._texts.get(line, "")
        return all(word in text for word in self._words)


class ChatPanel(Vertical):
    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (AgentSaid,)
    DEFAULT_CSS = """
    ChatPanel {
        height: 1fr;
    }
    ChatPanel > ChatLog {
        height: 1fr;
        padding: 0 1;
    }
    ChatPanel > #chat-team-log {
        display: none;
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
        #: (who, text) per channel, "agent" and "team", as shown.
        self.transcripts: dict[str, list[tuple[str, str]]] = {"agent": [], "team": []}
        #: What the operator sent to the team and already sees as "you": the bus's echo of
        #: each (an operator's `AgentSaid`) is not shown a second time.
        self._sent_to_team: list[str] = []

    @property
    def transcript(self) -> list[tuple[str, str]]:
        """The conversation with the agents (not the team channel)."""
        return self.transcripts["agent"]

    def compose(self) -> ComposeResult:
        yield Tabs(Tab("Agent", id="chat-agent"), Tab("Team", id="chat-team"), id="chat-tabs")
        yield FilterBar(
            placeholder="filter the lines of both channels…", hides=True, id="chat-filter"
        )
        yield ChatLog(id="chat-agent-log")
        yield ChatLog(id="chat-team-log")
        yield HistoryInput(
            placeholder="talk to the agent: how are you feeling? check shop …", id="chat-input"
        )

    def on_mount(self) -> None:
        for log in self.query(ChatLog):
            self.watch(log, "following", self._show_following)

    @property
    def channel(self) -> str:
        return "team" if self.query_one(Tabs).active == "chat-team" else "agent"

    def channel_log(self, channel: str) -> ChatLog:
        """The log of `channel`, "agent" or "team"."""
        return self.query_one(f"#chat-{channel}-log", ChatLog)

    @on(Tabs.TabActivated, "#chat-tabs")
    def _channel_shown(self, event: Tabs.TabActivated) -> None:
        event.stop()
        shown = self.channel
        for channel in ("agent", "team"):
            self.channel_log(channel).display = channel == shown
        log = self.channel_log(shown)
        if log.following:
            log.scroll_end(animate=False)
        self._show_following()

    def _show_following(self, _following: bool = True) -> None:
        if self.is_attached:
            self.border_subtitle = "" if self.channel_log(self.channel).following else PAUSED

    def watch_agent(self, name: str | None) -> None:
        if name is not None:
            self.border_title = f"Chat · {name}"

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, AgentSaid) and event.channel == "team" and event.agent:
            if event.agent.startswith(OPERATOR_PREFIX) and event.text in self._sent_to_team:
                self._sent_to_team.remove(event.text)
                return
            self.show_team(event.agent, event.text)

    @on(Input.Changed, "#chat-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        for log in self.query(ChatLog):
            log.show_only(event.value)

    @on(FilterBar.Cleared, "#chat-filter")
    def _filter_cleared(self, event: FilterBar.Cleared) -> None:
        event.stop()
        for log in self.query(ChatLog):
            log.show_only("")
        self.query_one(HistoryInput).focus()

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        field = self.query_one(HistoryInput)
        field.remember(text)
        field.value = ""
        self.add_line("you", text, "chat-operator", self.channel)
        if self.channel == "team":
            self._sent_to_team.append(text)
        self.post_message(self.Sent(text, self.channel))

    def add_line(self, who: str, text: str, style: str, channel: str = "agent") -> Static:
        """A line in `channel`'s log, shown literally (brackets are text, not markup)."""
        line = Static(assemble((who, "bold"), ": ", text), classes=style)
        self._mount(line, f"{who}: {text}", channel)
        self.transcripts[channel].append((who, text))
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
            why = Collapsible(Static(literal(body)), title=f"why ({detail})", collapsed=True)
            self._mount(why, f"{agent}: {text} {body}")

    def show_team(self, sender: str, text: str) -> None:
        self.add_line(f"{sender} → team", text, "chat-team", "team")

    def _mount(self, widget: Static | Collapsible, text: str, channel: str = "agent") -> None:
        if not self.is_attached:  # a line arriving while the app closes has nowhere to go
            return
        self.channel_log(channel).append(widget, text)
