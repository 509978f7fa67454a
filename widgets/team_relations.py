"""Trust and affinity between the agents: who relies on whom, live, in the Team tab.

Each row is how one agent regards another (or an operator who gave it feedback): trust (how
much it counts the other's outcomes and advice), affinity (liking) and how often they dealt
with each other. The screen fills the table once (`show_pairs`, from `Kernel.team`); after that
every `RelationshipChanged` event moves its row in place (an outcome seen, feedback, a lost
conflict, a hand-over), so nothing polls. `pair_cells` draws a row as plain `Text` (names
come from people), for `webops team` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from agent.events import KernelEvent, RelationshipChanged
from agent.social.team import PairView
from widgets.emotion_gauges import gauge
from widgets.kernel_messages import KernelEventArrived

#: (label, key) of each column, for this table and `webops team`'s.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("agent", "subject"),
    ("regards", "other"),
    ("trust", "trust"),
    ("affinity", "affinity"),
    ("contacts", "interactions"),
)
BAR = 8


def level(value: float, width: int = BAR) -> Text:
    """A 0-1 value as a bar and two decimals; above neutral green, below red (ANSI names)."""
    style = "green" if value > 0.55 else "red" if value < 0.45 else ""
    bar = Text(gauge(value, width), style=style)
    bar.append(f" {value:.2f}")
    return bar


def pair_cells(
    subject: str, other: str, trust: float, affinity: float, interactions: int
) -> tuple[Text, Text, Text, Text, str]:
    """One relationship as table cells: names as plain text, trust and affinity as bars."""
    return Text(subject), Text(other), level(trust), level(affinity), str(interactions)


def _key(subject: str, other: str) -> str:
    return f"{subject}\N{RIGHTWARDS ARROW}{other}"


class TeamRelations(Vertical):
    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (RelationshipChanged,)
    DEFAULT_CSS = """
    TeamRelations {
        height: 1fr;
        min-height: 5;
    }
    TeamRelations > DataTable {
        height: 1fr;
    }
    TeamRelations > #team-empty {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        #: The rows shown, by "subject→other": (trust, affinity, interactions).
        self.pairs: dict[str, tuple[float, float, int]] = {}

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="team-table", cursor_type="row")
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="team-empty")

    def show_pairs(self, pairs: Sequence[PairView]) -> None:
        """Show these relationships (all of them: the table is rebuilt)."""
        table = self.query_one(DataTable)
        table.clear()
        self.pairs.clear()
        for p in pairs:
            self._put(p.subject, p.other, p.trust, p.affinity, p.interactions)
        self.query_one("#team-empty", Static).update(
            ""
            if pairs
            else "No teammates yet: with two agents, each one's trust and liking "
            "for the other shows here."
        )

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        event = message.event
        if isinstance(event, RelationshipChanged) and event.agent is not None:
            self._put(
                event.agent, event.other, event.trust, event.affinity, event.interactions, True
            )

    def _put(
        self,
        subject: str,
        other: str,
        trust: float,
        affinity: float,
        count: int,
        sort: bool = False,
    ) -> None:
        table = self.query_one(DataTable)
        key = _key(subject, other)
        cells = pair_cells(subject, other, trust, affinity, count)
        if key in self.pairs:
            for (_label, column), cell in zip(COLUMNS[2:], cells[2:], strict=True):
                table.update_cell(key, column, cell)
        else:
            if not self.pairs:
                self.query_one("#team-empty", Static).update("")
            table.add_row(*cells, key=key)
            if sort:  # a pair first met now: keep the rows in name order
                table.sort("subject", "other", key=lambda cells: tuple(map(str, cells)))
        self.pairs[key] = (trust, affinity, count)
