"""The memory browser: episodes, facts and procedures of the selected agent, with recall search.

The widget only shows what it is given and asks for more through messages; the screen asks
the kernel (`recall_similar` for searches) and hands the results back. The selected agent comes
down data-bound (`agent`): when it changes under results shown for another agent, the browser
asks again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, Input, Static, Tab, Tabs

from agent.memory.memory import MemoryItem, MemoryKind
from widgets.filter_bar import FilterBar
from widgets.literal_text import literal, scrub

KIND_OF_TAB: dict[str, MemoryKind] = {
    "tab-episodic": "episodic",
    "tab-semantic": "semantic",
    "tab-procedural": "procedural",
}


class MemoryBrowser(Vertical):
    DEFAULT_CSS = """
    MemoryBrowser {
        height: 1fr;
    }
    MemoryBrowser #memory-results {
        height: 2fr;
    }
    MemoryBrowser #memory-detail-box {
        height: 1fr;
        min-height: 4;
        border-top: solid $panel-lighten-2;
    }
    MemoryBrowser #memory-detail {
        padding: 0 1;
    }
    """

    class SearchRequested(Message):
        def __init__(self, kind: MemoryKind, text: str) -> None:
            super().__init__()
            self.kind = kind
            self.text = text

    #: The selected agent (bound to the screen's); `shown_agent` is whose memories are shown.
    agent: var[str | None] = var(None)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[MemoryItem] = []
        self.shown_agent: str | None = None

    def compose(self) -> ComposeResult:
        yield FilterBar(placeholder="/ search memory (recall by meaning)…", id="memory-search")
        yield Tabs(
            Tab("Episodes", id="tab-episodic"),
            Tab("Facts", id="tab-semantic"),
            Tab("Procedures", id="tab-procedural"),
            id="memory-tabs",
        )
        table: DataTable[str] = DataTable(id="memory-results", cursor_type="row")
        table.add_column("score", key="score", width=6)
        table.add_column("memory", key="summary")
        yield table
        with VerticalScroll(id="memory-detail-box"):
            yield Static("Select a memory to see its details and sources.", id="memory-detail")

    @property
    def kind(self) -> MemoryKind:
        active = self.query_one(Tabs).active
        return KIND_OF_TAB.get(active or "", "episodic")

    @property
    def search_text(self) -> str:
        return self.query_one("#memory-search", Input).value.strip()

    def request(self) -> None:
        self.post_message(self.SearchRequested(self.kind, self.search_text))

    def watch_agent(self, name: str | None) -> None:
        if self.shown_agent is not None and self.shown_agent != name:
            self.request()

    @on(Input.Submitted, "#memory-search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.request()

    @on(FilterBar.Cleared, "#memory-search")
    def _cleared(self, event: FilterBar.Cleared) -> None:
        """Escape: every memory again, and the arrows move in them."""
        event.stop()
        self.request()
        self.query_one("#memory-results", DataTable).focus()

    @on(Tabs.TabActivated, "#memory-tabs")
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.request()

    def show_items(self, agent: str, items: Sequence[MemoryItem]) -> None:
        self.shown_agent = agent
        self.items = list(items)
        self.border_title = f"Memory · {agent}"
        table = self.query_one("#memory-results", DataTable)
        table.clear()
        for i, item in enumerate(self.items):
            score = "" if item.score is None else f"{item.score:.2f}"
            table.add_row(score, literal(item.summary, newlines=False), key=str(i))
        if not self.items:
            self.query_one("#memory-detail", Static).update(
                literal(
                    f"Nothing here yet: {agent} remembers what it does and what it is told "
                    "(c to chat with it)."
                    if not self.search_text
                    else "No match. Escape clears the search."
                )
            )
        else:
            self.show_detail(self.items[0])

    def show_detail(self, item: MemoryItem) -> None:
        text = Text()
        text.append(f"{item.kind} #{item.id}", style="bold")
        text.append(f"  {item.ts:%Y-%m-%d %H:%M:%S} UTC", style="dim")
        if item.score is not None:
            text.append(f"  score {item.score:.3f}", style="dim")
        text.append(f"\n{item.summary}\n")
        if item.details:
            text.append(json.dumps(item.details, indent=1, default=str), style="dim")
        if item.sources:
            text.append("\nsources: episodes " + ", ".join(f"#{s}" for s in item.sources))
        self.query_one("#memory-detail", Static).update(scrub(text))

    @on(DataTable.RowHighlighted, "#memory-results")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        row = event.cursor_row
        if 0 <= row < len(self.items):
            self.show_detail(self.items[row])
