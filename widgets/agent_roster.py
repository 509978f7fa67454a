"""The agents roster: who is on the team, their preset, state, mood and traits at a glance.

Highlighting a row selects that agent (`Selected` goes up; the screen passes the choice down to
every per-agent panel). The roster follows state, emotion and personality-drift events (the
mood and traits columns) and says at most twice a second that it is out of date (`Stale`); the
screen reloads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from agent.events import EmotionsChanged, KernelEvent, PersonalityDrifted, StateChanged
from agent.mind.personality import TRAITS
from agent.mind.profile import AgentProfile
from widgets.bursts import OncePerBurst
from widgets.kernel_messages import EmotionsUpdated, KernelEventArrived

EMPTY_TEXT = (
    "No agents yet.\n\n"
    "Press [b]n[/b] to create one, or [b]ctrl+p[/b] and [b]demo[/b] to watch the demo team.\n\n"
    "Created one in another shell ([b]webops agent create anna --preset cautious[/b])?\n"
    "Press [b]r[/b] to reload."
)

_BARS = " ▁▂▃▄▅▆▇█"
#: A trait that drifted at least this far from its base gets an arrow.
DRIFT_SHOWN = 0.005
#: How long the roster gathers state and mood changes before it asks once to be reloaded.
STALE_DELAY_S = 0.5


def trait_bars(profile: AgentProfile) -> Text:
    """OCEAN as five letters with a bar each, and an arrow where experience moved a trait
    from its base: 'O▃ C▇↑ E▃ A▅ N▆↓'."""
    text = Text()
    for i, trait in enumerate(TRAITS):
        value = getattr(profile.personality, trait)
        if i:
            text.append(" ")
        text.append(trait[0].upper(), style="dim")
        text.append(_BARS[round(value * (len(_BARS) - 1))] or " ", style="bold")
        drift = profile.drift.get(trait, 0.0)
        if abs(drift) >= DRIFT_SHOWN:
            text.append("↑" if drift > 0 else "↓", style="italic")
    return text


class AgentRoster(Vertical):
    """A table of agents, or a how-to when there are none. Posts `Selected` on highlight."""

    KERNEL_EVENTS: ClassVar[tuple[type[KernelEvent], ...]] = (
        EmotionsChanged,
        StateChanged,
        PersonalityDrifted,
    )
    DEFAULT_CSS = """
    AgentRoster {
        height: 1fr;
    }
    AgentRoster > DataTable {
        height: 1fr;
        background: $surface;
    }
    AgentRoster > #roster-empty {
        display: none;
        padding: 1 2;
        color: $text-muted;
    }
    AgentRoster.-empty > #roster-empty {
        display: block;
    }
    AgentRoster.-empty > DataTable {
        display: none;
    }
    """

    class Selected(Message):
        def __init__(self, profile: AgentProfile) -> None:
            super().__init__()
            self.profile = profile

    class Stale(Message):
        """States or moods changed since the roster was read: read it again."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._profiles: list[AgentProfile] = []
        self._stale = OncePerBurst(self, STALE_DELAY_S, lambda: self.post_message(self.Stale()))

    def on_emotions_updated(self, message: EmotionsUpdated) -> None:
        self._stale.poke()

    def on_kernel_event_arrived(self, message: KernelEventArrived) -> None:
        self._stale.poke()

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_column("agent", key="name")
        table.add_column("preset", key="preset")
        table.add_column("state", key="state")
        table.add_column("mood", key="mood")
        table.add_column("traits", key="traits")
        yield table
        yield Static(EMPTY_TEXT, id="roster-empty")

    @property
    def profiles(self) -> list[AgentProfile]:
        return list(self._profiles)

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one(DataTable)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._profiles]

    def select(self, name: str) -> None:
        """Move the cursor to `name` (which selects it), if it is on the team."""
        if name in self.names:
            self.table.move_cursor(row=self.names.index(name))

    def focus_table(self) -> None:
        self.table.focus()

    def show_agents(self, profiles: Sequence[AgentProfile]) -> None:
        """Replace the rows, keeping the cursor on the same agent when it is still there."""
        table = self.table
        selected = self.selected
        self._profiles = list(profiles)
        table.clear()
        for profile in self._profiles:
            table.add_row(
                profile.name,
                profile.preset,
                profile.state,
                profile.mood.label,
                trait_bars(profile),
                key=profile.name,
            )
        self.set_class(not self._profiles, "-empty")
        names = [p.name for p in self._profiles]
        if selected is not None and selected.name in names:
            table.move_cursor(row=names.index(selected.name))

    @property
    def selected(self) -> AgentProfile | None:
        if not self._profiles:
            return None
        row = self.table.cursor_row
        return self._profiles[row] if 0 <= row < len(self._profiles) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        profile = self.selected
        if profile is not None:
            self.post_message(self.Selected(profile))
